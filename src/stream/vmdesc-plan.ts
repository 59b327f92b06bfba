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
  const fields = desc.fields.map((f): PlanField => {
    const count = f.array_len ?? 1;
    const size = f.size ?? 0;
    const base = { field: f, count, size, signed: false };
    if (f.type === 'struct')
      return f.struct
        ? { ...base, kind: FieldKind.Struct, struct: planOf(f.struct) }
        : { ...base, kind: FieldKind.Invalid };
    if (f.type === 'capability') return { ...base, kind: FieldKind.Capability };
    if (f.size === undefined) return { ...base, kind: FieldKind.Invalid };
    if (f.type === 'bool') return { ...base, kind: size === 1 ? FieldKind.Bool : FieldKind.Bytes };
    if (f.type === 'nullptr') return { ...base, kind: FieldKind.NullPtr };
    const signed = SIGNED_INT_TYPES.has(f.type);
    if ((signed || UNSIGNED_INT_TYPES.has(f.type)) && size > 0)
      return { ...base, kind: FieldKind.Int, signed };
    return { ...base, kind: FieldKind.Bytes };
  });
  const seen = new Set<string>();
  let contiguousNames = true;
  let last: string | undefined;
  for (const f of fields) {
    if (f.count === 0) continue;
    const name = f.field.name;
    if (name !== last && seen.has(name)) contiguousNames = false;
    seen.add(name);
    last = name;
  }
  return {
    desc,
    fields,
    subsections: (desc.subsections ?? []).map(planOf),
    contiguousNames,
  };
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
      default: {
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
