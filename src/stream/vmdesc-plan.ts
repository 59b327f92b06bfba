import type { ByteReader } from '../bytes/reader';
import { Limits, SectionType } from './constants';
import type { VmdescField, VmdescVmsd } from './vmdesc';

/**
 * A vmdesc VMSD compiled once for the hot path: each field's reader kind and element count, so
 * walking a section's bytes by it (to find where the section ends, or to print it) allocates
 * nothing per field. The tree decoder (vmdesc-codec.ts) stays the reference for what a field is.
 */
export const FieldKind = {
  Struct: 0,
  Capability: 1,
  Bool: 2,
  NullPtr: 3,
  Int: 4,
  Bytes: 5,
  /** A struct field without a description or a sized type without a size: the decoder rejects it. */
  Invalid: 6,
} as const;
export type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

export interface PlanField {
  field: VmdescField;
  kind: FieldKind;
  size: number;
  count: number;
  signed: boolean;
  struct?: VmdescPlan;
}

export interface VmdescPlan {
  desc: VmdescVmsd;
  fields: PlanField[];
  subsections: VmdescPlan[];
  /** Field names are each used by one contiguous run of fields (so grouping by name keeps stream order). */
  contiguousNames: boolean;
}

/** How analyze-migration.py reads each integer type: these print signed, these unsigned. */
export const SIGNED_INT_TYPES: ReadonlySet<string> = new Set([
  'int8',
  'int16',
  'int32',
  'int32 equal',
  'int32 le',
  'int64',
  'int64 equal',
  'uint8 equal',
  'uint16 equal',
]);
export const UNSIGNED_INT_TYPES: ReadonlySet<string> = new Set([
  'uint8',
  'uint16',
  'uint32',
  'uint32 equal',
  'uint64',
]);

// Only whole descriptions are cached (nested ones are compiled with them): a weak map with a key
// per nested struct would cost more in the garbage collector than compiling does.
const plans = new WeakMap<VmdescVmsd, VmdescPlan>();

export function planOf(desc: VmdescVmsd): VmdescPlan {
  let p = plans.get(desc);
  if (!p) {
    p = compile(desc);
    plans.set(desc, p);
  }
  return p;
}

function compile(desc: VmdescVmsd): VmdescPlan {
  const fields: PlanField[] = [];
  let contiguousNames = true;
  for (const f of desc.fields) {
    const p = planField(f);
    if (p.count > 0 && contiguousNames) {
      const name = f.name;
      let last: string | undefined;
      for (let i = fields.length - 1; i >= 0; i--)
        if (fields[i].count > 0) {
          last = fields[i].field.name;
          break;
        }
      if (name !== last && fields.some((x) => x.count > 0 && x.field.name === name))
        contiguousNames = false;
    }
    fields.push(p);
  }
  const subsections: VmdescPlan[] = [];
  for (const sub of desc.subsections ?? []) subsections.push(compile(sub));
  return { desc, fields, subsections, contiguousNames };
}

function planField(f: VmdescField): PlanField {
  const count = f.array_len ?? 1;
  const size = f.size ?? 0;
  let kind: FieldKind;
  let signed = false;
  let struct: VmdescPlan | undefined;
  if (f.type === 'struct') {
    kind = f.struct ? FieldKind.Struct : FieldKind.Invalid;
    if (f.struct) struct = compile(f.struct);
  } else if (f.type === 'capability') kind = FieldKind.Capability;
  else if (f.size === undefined) kind = FieldKind.Invalid;
  else if (f.type === 'bool') kind = size === 1 ? FieldKind.Bool : FieldKind.Bytes;
  else if (f.type === 'nullptr') kind = FieldKind.NullPtr;
  else {
    signed = SIGNED_INT_TYPES.has(f.type);
    kind = (signed || UNSIGNED_INT_TYPES.has(f.type)) && size > 0 ? FieldKind.Int : FieldKind.Bytes;
  }
  return { field: f, kind, size, count, signed, struct };
}

/**
 * Moves the reader past one struct's bytes, checking what decodeByVmdesc checks. Returns false
 * (reader position unspecified) on anything the decoder would reject, truncation included: the
 * caller then runs the decoder, which throws the precise error. No error is built on this path.
 */
export function skipStruct(r: ByteReader, plan: VmdescPlan, nodes: { n: number }): boolean {
  const b = r.bytes;
  for (const f of plan.fields) {
    if (f.count > Limits.maxArrayLength) return false;
    if (f.count === 0) continue;
    if ((nodes.n += f.count) > Limits.maxNodesPerSection) return false;
    switch (f.kind) {
      case FieldKind.Struct:
        for (let i = 0; i < f.count; i++) if (!skipStruct(r, f.struct!, nodes)) return false;
        break;
      case FieldKind.Capability:
        for (let i = 0; i < f.count; i++) {
          if (r.pos >= b.length) return false;
          const n = b[r.pos];
          if (r.pos + 1 + n > b.length) return false;
          r.pos += 1 + n;
        }
        break;
      case FieldKind.NullPtr:
        if (f.size !== 1) return false;
        if (r.pos + f.count > b.length) return false;
        for (let i = 0; i < f.count; i++) if (b[r.pos++] !== 0x30) return false;
        break;
      case FieldKind.Invalid:
        return false;
      case FieldKind.Bool:
      case FieldKind.Int:
      case FieldKind.Bytes: {
        const total = f.size * f.count;
        if (r.pos + total > b.length) return false;
        r.pos += total;
      }
    }
  }
  for (const sub of plan.subsections) {
    if (r.pos >= b.length || b[r.pos] !== SectionType.SUBSECTION) return false;
    if (r.pos + 2 > b.length) return false;
    const n = b[r.pos + 1];
    r.pos += 2 + n;
    if (r.pos + 4 > b.length) return false;
    r.pos += 4;
    if (!skipStruct(r, sub, nodes)) return false;
  }
  return true;
}
