/**
 * The x86 cpu section's KVM nested state, read back into the kernel's terms for `vmstate
 * analyze`: the header with flag names, and the vmcs12 / shadow vmcs12 / vmcb12 pages decoded
 * into named fields (guest RIP, exit reason, intercepts...) instead of 4096 numbered bytes.
 */
import type { SectionView } from '../../src/analyze/section-view';
import type { DeviceSection } from '../../src/stream/section';
import { isDescStruct, type DescStruct, type DescValue } from '../../src/stream/vmdesc-value';
import {
  describeNestedState,
  noNestedGuestState,
  type NestedState,
  type NestedStateReport,
} from './kvm';

/** Where QEMU keeps the struct kvm_nested_state in the cpu section (subsection cpu/nested_state). */
const NESTED_FIELD = 'env.nested_state';

/** The nested-state report of a decoded `cpu` section, or undefined when it carries none. */
export function nestedStateReport(section: DeviceSection): NestedStateReport | undefined {
  if (section.idstr !== 'cpu') return undefined;
  const values = isDescStruct(section.value)
    ? fromDescription(section.value)
    : fromCatalogState(section.value);
  if (!values || values.format === undefined) return undefined;
  const state = noNestedGuestState(Number(values.format)) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(values)) {
    if (!(k in state)) continue;
    const cur = state[k];
    state[k] =
      typeof cur === 'bigint' ? BigInt(v as bigint) : typeof cur === 'number' ? Number(v) : v;
  }
  return describeNestedState(state as unknown as NestedState);
}

/** Flattens env.nested_state and its subsections (decoded by the stream's vmdesc) into key -> value. */
function fromDescription(cpu: DescStruct): Record<string, unknown> | undefined {
  const sub = cpu.subsections.find((s) => s.name === 'cpu/nested_state');
  const entry = sub?.body.entries.find((e) => e.name === NESTED_FIELD);
  if (!entry || !isDescStruct(entry.value)) return undefined;
  const out: Record<string, unknown> = {};
  const walk = (s: DescStruct) => {
    const bytes = new Map<string, number[]>();
    for (const e of s.entries) {
      const v: DescValue = e.value;
      if (v.kind === 'int') {
        // A page travels as a uint8 array: one entry per byte (or one folded entry per element).
        if (v.size === 1 && (e.index !== undefined || e.name.startsWith('data.'))) {
          const list = bytes.get(e.name) ?? [];
          list.push(Number(v.value));
          bytes.set(e.name, list);
        } else out[e.name] = v.value;
      } else if (v.kind === 'bytes') out[e.name] = v.data;
      else if (v.kind === 'bool') out[e.name] = v.byte !== 0;
    }
    for (const [name, list] of bytes) out[name] = Uint8Array.from(list);
    for (const child of s.subsections) walk(child.body);
  };
  walk(entry.value);
  return out;
}

/** The catalog's cpu state keeps the nested struct as one object under env.nested_state. */
function fromCatalogState(value: unknown): Record<string, unknown> | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const nested = (value as Record<string, unknown>)[NESTED_FIELD];
  return nested && typeof nested === 'object' ? (nested as Record<string, unknown>) : undefined;
}

/** JSON-safe copy: bigints and page fields as hex strings. */
export function nestedReportJson(r: NestedStateReport): unknown {
  return JSON.parse(
    JSON.stringify(r, (_, v) =>
      typeof v === 'bigint'
        ? `0x${v.toString(16)}`
        : v instanceof Uint8Array
          ? Buffer.from(v).toString('hex')
          : v,
    ),
  );
}

/** Lines for the tree outline. */
export function nestedReportLines(r: NestedStateReport, ind: string): string[] {
  const show = (v: unknown): string =>
    typeof v === 'bigint'
      ? `0x${v.toString(16)}`
      : typeof v === 'number'
        ? `0x${v.toString(16)}`
        : Array.isArray(v)
          ? `[${v.join(', ')}]`
          : String(v);
  const lines = [`${ind}KVM nested state: format ${r.format}, flags [${r.flags.join(', ')}]`];
  for (const [k, v] of Object.entries(r.header)) lines.push(`${ind}  ${k} = ${show(v)}`);
  const page = (title: string, fields: Record<string, unknown> | undefined) => {
    if (!fields) return;
    const isZero = (v: unknown) =>
      v === 0 ||
      v === 0n ||
      ((Array.isArray(v) || v instanceof Uint8Array) && [...v].every((x) => x === 0 || x === 0n));
    const set = Object.entries(fields).filter(([, v]) => !isZero(v));
    lines.push(
      `${ind}  ${title} (${set.length} non-zero of ${Object.keys(fields).length} fields):`,
    );
    for (const [k, v] of set) lines.push(`${ind}    ${k} = ${show(v)}`);
  };
  page('vmcs12', r.vmcs12 as unknown as Record<string, unknown>);
  page('shadow vmcs12', r.shadowVmcs12 as unknown as Record<string, unknown>);
  page('vmcb12', r.vmcb12 as unknown as Record<string, unknown>);
  if (r.problem) lines.push(`${ind}  inconsistent: ${r.problem.message} (${r.problem.path})`);
  return lines;
}

/** The view `vmstate analyze` shows under "nested" for a cpu section with KVM nested state. */
export const nestedStateView: SectionView = {
  key: 'nested',
  json: (section) => {
    const r = nestedStateReport(section);
    return r && nestedReportJson(r);
  },
  lines: (section, indent) => {
    const r = nestedStateReport(section);
    return r ? nestedReportLines(r, indent) : [];
  },
};
