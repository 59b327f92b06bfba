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
  VMCB_LAYOUT,
  VMCS12_LAYOUT,
  type NestedState,
  type NestedStateReport,
} from './kvm';

/** Where QEMU keeps the struct kvm_nested_state in the cpu section (subsection cpu/nested_state). */
const NESTED_FIELD = 'env.nested_state';

/**
 * The nested-state report of a decoded `cpu` section, or undefined when it carries none. The
 * stream's own description says what type each field has; a field typed unlike the kernel struct
 * (a buffer or a bool where a u64 belongs, a page of the wrong size) is not shown: it keeps the
 * empty state's value and the report's `problem` names it.
 */
export function nestedStateReport(section: DeviceSection): NestedStateReport | undefined {
  if (section.idstr !== 'cpu') return undefined;
  const values = isDescStruct(section.value)
    ? fromDescription(section.value)
    : fromCatalogState(section.value);
  if (!values || values.format === undefined) return undefined;
  const format = asInteger(values.format);
  if (format === undefined || format > 0xffff) return unreadable('format', values.format);
  const state = noNestedGuestState(Number(format)) as unknown as Record<string, unknown>;
  const unshown: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (!(k in state)) continue;
    const typed = asTypeOf(state[k], v);
    if (typed === undefined) unshown.push(`${k} (${typeName(v)})`);
    else state[k] = typed;
  }
  let report: NestedStateReport;
  try {
    report = describeNestedState(state as unknown as NestedState);
  } catch (e) {
    return unreadable('the header', (e as Error).message);
  }
  if (unshown.length) {
    // Shown first: what follows from the missing values (e.g. "no current VMCS") is secondary.
    const then = report.problem ? `; with their default values: ${report.problem.message}` : '';
    report.problem = {
      rule: 'field-type',
      message: `not shown, typed unlike struct kvm_nested_state in the stream's description: ${unshown.join(', ')}${then}`,
      path: `${NESTED_FIELD} > ${unshown[0].split(' ')[0]}`,
    };
  }
  return report;
}

/** A report that only says why the nested state cannot be shown. */
function unreadable(what: string, got: unknown): NestedStateReport {
  return {
    format: 'unknown',
    flags: [],
    header: {},
    problem: {
      rule: 'field-type',
      message: `cannot show the nested state: ${what} is ${typeof got === 'string' ? got : typeName(got)}`,
      path: NESTED_FIELD,
    },
  };
}

/** `v` converted to the type of the empty state's `template`, or undefined when it cannot be. */
function asTypeOf(template: unknown, v: unknown): unknown {
  if (typeof template === 'bigint') {
    const n = asInteger(v);
    return n === undefined || n < 0n || n >= 1n << 64n ? undefined : n;
  }
  if (typeof template === 'number') {
    const n = asInteger(v);
    return n === undefined || n < 0n || n > 0xffffffffn ? undefined : Number(n);
  }
  if (template instanceof Uint8Array)
    return v instanceof Uint8Array && v.length === template.length ? v : undefined;
  return typeof v === typeof template ? v : undefined;
}

function asInteger(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return undefined;
}

function typeName(v: unknown): string {
  if (v instanceof Uint8Array) return `a ${v.length}-byte buffer`;
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return `a ${typeof v}`;
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

/** Where each vmcs12 / vmcb12 field lives in its page, for `vmstate explore`'s nested panel. */
export function nestedPageLayouts(): Record<string, Record<string, [number, number]>> {
  const places = (l: { fields: readonly { name: string; offset: number; size: number }[] }) =>
    Object.fromEntries(l.fields.map((f) => [f.name, [f.offset, f.size] as [number, number]]));
  const vmcs12 = places(VMCS12_LAYOUT);
  // The report splits the header word: the revision and the shadow-VMCS bit share its 4 bytes.
  const hdr = vmcs12.hdr ?? [0, 4];
  return { vmcs12: { ...vmcs12, revision_id: hdr, shadow_vmcs: hdr }, vmcb12: places(VMCB_LAYOUT) };
}
