/**
 * The JSON form of a VM state for `vmstate generate --state FILE.json`:
 *
 *   {
 *     "format": "vmstate-lab/vm-state@1",
 *     "ctx": { "accel": "kvm", "cpu": { "vmx": true }, "kvm": { "nestedStateMax": 8320, "exceptionPayload": true } },
 *     "sections": { "timer": {...}, "cpu_common": {...}, "cpu": { "env.eip": "0xffffffff81b8e4f6", ... } }
 *   }
 *
 * Section states use QEMU's field names as keys. 64-bit values are strings (decimal, or hex
 * with 0x; negative allowed for signed fields) since JSON numbers lose precision past 2^53;
 * 8/16/32-bit values are numbers; byte buffers (vmcs12 pages, tile data) are hex strings;
 * structs are objects and arrays are arrays. Keys a section leaves out keep the value of the
 * reset vCPU (see reset.ts), so a file only needs what differs. The description of each value
 * comes from the release's catalog, so reading is strict: an unknown key or a value of the
 * wrong shape is an error naming its path.
 */
import { deeperThan, issueKey } from '../../src/json-input';
import { z } from 'zod';
import type { AnyVMSDesc, Kind, State } from '../../src/dsl';
import { unreachableShape, type AnyField } from '../../src/dsl/field';
import { cloneValue, initialState } from '../../src/engine/state';
import { stateFields } from '../../src/engine/state';
import type { X86Ctx } from '../x86/ctx';
import type { VmStates } from './types';

export const VM_STATE_FORMAT = 'vmstate-lab/vm-state@1';

export interface VmStateFile {
  readonly ctx: X86Ctx;
  readonly sections: VmStates;
}

export class StateJsonError extends Error {}

const isBigKind = (k: Kind<unknown>) => typeof k.initial() === 'bigint';
const isBytesKind = (k: Kind<unknown>) => k.initial() instanceof Uint8Array;
const nestedOf = (k: Kind<unknown>) => (k as { desc?: AnyVMSDesc }).desc;

/** State -> JSON-able value, by description. */
export function stateToJson(desc: AnyVMSDesc, s: Readonly<State>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fieldsByKey(desc).values()) if (f.key in s) out[f.key] = valueToJson(f, s[f.key]);
  return out;
}

function valueToJson(f: AnyField, v: unknown): unknown {
  switch (f.shape) {
    case 'array':
      return (v as unknown[]).map((e) => elementToJson(f.kind, e));
    case 'vbuffer':
      return hex(v as Uint8Array);
    case 'value':
    case 'unused':
    case 'validate':
      return elementToJson(f.kind, v);
    default:
      return unreachableShape(f.shape);
  }
}

function elementToJson(k: Kind<unknown>, v: unknown): unknown {
  const nested = nestedOf(k);
  if (nested) return stateToJson(nested, v as State);
  if (typeof v === 'bigint') return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
  if (v instanceof Uint8Array) return hex(v);
  return v;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** JSON value -> state, by description, on top of `base` (the reset state). */
export function stateFromJson(
  desc: AnyVMSDesc,
  json: unknown,
  base: Readonly<State>,
  path: string,
): State {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new StateJsonError(`${path}: expected an object`);
  const fields = fieldsByKey(desc);
  const out = cloneValue(base) as State;
  for (const [key, v] of Object.entries(json as Record<string, unknown>)) {
    const f = fields.get(key);
    if (!f)
      throw new StateJsonError(
        `${path}: unknown field '${key}' (not in ${desc.name} or its subsections)`,
      );
    out[key] = valueFromJson(f, v, out[key], `${path} > ${key}`);
  }
  return out;
}

function valueFromJson(f: AnyField, v: unknown, current: unknown, path: string): unknown {
  switch (f.shape) {
    case 'array': {
      if (!Array.isArray(v)) throw new StateJsonError(`${path}: expected an array`);
      if (f.count.from === 'fixed' && v.length !== f.count.n)
        throw new StateJsonError(`${path}: expected ${f.count.n} elements, got ${v.length}`);
      const cur = Array.isArray(current) ? current : [];
      return v.map((e, i) => elementFromJson(f.kind, e, cur[i], `${path}[${i}]`));
    }
    case 'vbuffer':
      return bytesFromJson(v, path);
    case 'value':
    case 'unused':
    case 'validate':
      return elementFromJson(f.kind, v, current, path);
    default:
      return unreachableShape(f.shape);
  }
}

function elementFromJson(k: Kind<unknown>, v: unknown, current: unknown, path: string): unknown {
  const nested = nestedOf(k);
  let out: unknown;
  if (nested) out = stateFromJson(nested, v, (current as State) ?? initialState(nested), path);
  else if (isBigKind(k)) out = bigFromJson(v, path);
  else if (isBytesKind(k)) out = bytesFromJson(v, path);
  else out = v;
  const problem = k.check(out);
  if (problem) throw new StateJsonError(`${path}: ${problem}`);
  return out;
}

function bigFromJson(v: unknown, path: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?(0x[0-9a-f]+|[0-9]+)$/i.test(v.trim())) {
    const t = v.trim();
    return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
  }
  throw new StateJsonError(
    `${path}: expected a 64-bit integer as a string ("0x..." or decimal), got ${JSON.stringify(v)}`,
  );
}

function bytesFromJson(v: unknown, path: string): Uint8Array {
  if (typeof v !== 'string' || !/^([0-9a-f]{2})*$/i.test(v))
    throw new StateJsonError(`${path}: expected bytes as a hex string`);
  return new Uint8Array(Buffer.from(v, 'hex'));
}

/** Every state field of a description and its subsections by key (later duplicates are the same key). */
function fieldsByKey(desc: AnyVMSDesc): Map<string, AnyField> {
  const m = new Map<string, AnyField>();
  for (const f of stateFields(desc)) if (!m.has(f.key)) m.set(f.key, f);
  return m;
}

/** Deeper than any section's structs and arrays nest (the cpu's deepest is a handful of levels). */
const MAX_DEPTH = 32;

const flag = z.boolean().optional();
/** The file's envelope and ctx, as X86Ctx declares them; section contents are checked by description. */
const stateFileSchema = z.object({
  format: z.literal(VM_STATE_FORMAT).optional(),
  ctx: z
    .object({
      accel: z.enum(['kvm', 'tcg']).optional(),
      cpu: z
        .object({
          vmx: flag,
          svm: flag,
          svmTscScale: flag,
          tsxCtrl: flag,
          sgxLc: flag,
          xfd: flag,
          amxTile: flag,
          archLbr: flag,
          hvRuntime: flag,
          lmce: flag,
        })
        .strict()
        .optional(),
      kvm: z
        .object({
          // KVM_CAP_NESTED_STATE: 8320 on VMX, 4224 on SVM; a u32 in the kernel, never near 2^20.
          nestedStateMax: z
            .number()
            .int()
            .min(0)
            .max(1 << 20)
            .optional(),
          exceptionPayload: flag,
        })
        .strict()
        .optional(),
      props: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      userTscKhz: z.number().int().min(1).max(0xffffffff).optional(),
    })
    .strict(),
  sections: z.record(z.string(), z.record(z.string(), z.unknown())),
});

/** Reads a whole file's JSON (already parsed) into a ctx and section states, with bases per section. */
export function vmStateFromJson(
  json: unknown,
  descOf: (section: string) => AnyVMSDesc | undefined,
  baseOf: (section: string, ctx: X86Ctx) => State,
): VmStateFile {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new StateJsonError('state file: expected a JSON object');
  const deep = deeperThan(json, MAX_DEPTH);
  if (deep !== undefined)
    throw new StateJsonError(`state file: ${deep}: nested more than ${MAX_DEPTH} levels deep`);
  const r = stateFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = issueKey(issue.path);
    throw new StateJsonError(`state file: ${key || 'top level'}: ${issue.message}`);
  }
  const ctx = r.data.ctx as X86Ctx;
  const sections: Record<string, State> = {};
  for (const [name, value] of Object.entries(r.data.sections)) {
    const desc = descOf(name);
    if (!desc)
      throw new StateJsonError(`state file: no section '${name}' in this release's catalog`);
    sections[name] = stateFromJson(desc, value, baseOf(name, ctx), name);
  }
  return { ctx, sections };
}

export function vmStateToJson(
  file: VmStateFile,
  descOf: (section: string) => AnyVMSDesc | undefined,
): unknown {
  const sections: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(file.sections)) {
    const desc = descOf(name);
    if (desc) sections[name] = stateToJson(desc, s);
  }
  return { format: VM_STATE_FORMAT, ctx: file.ctx, sections };
}
