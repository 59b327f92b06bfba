import type { AnyField } from '../../dsl/field';
import type { AnyVMSDesc } from '../../dsl/vmsd';

/**
 * What the static checker compares: a description reduced to what decides the wire format,
 * built either from a QEMU `-dump-vmstate` JSON file or from a description written in the DSL.
 * Descriptions from the DSL carry more (variable-length bounds, the live VMSD for sampling).
 */
export interface CheckDesc {
  name: string;
  version_id: number;
  minimum_version_id: number;
  fields: CheckField[];
  subsections: CheckDesc[];
  /** The DSL description this came from, when it came from one (lets rules sample needed()). */
  vmsd?: AnyVMSDesc;
}

export interface CheckField {
  name: string;
  version_id: number;
  /** Has a test (QEMU's field_exists): present or not depending on state. */
  field_exists: boolean;
  /** Element size in bytes (for -dump-vmstate: the C size). */
  size: number;
  /** Fixed element count of an array. */
  num?: number;
  /** Nested description of a struct field. */
  struct?: CheckDesc;
  /** An `unused` placeholder. */
  unused?: boolean;
  /** A count from another field: its name and the declared maximum (DSL descriptions only). */
  varLength?: { field: string; max: number };
  /** The VMStateInfo name, when known (DSL descriptions only). */
  type?: string;
  /**
   * From a -dump-vmstate file whose format has no `num` key (QEMU before 9.x prints only the
   * element size): the element count is unknown, so only element sizes can be compared.
   */
  numUnknown?: boolean;
}

/** A set of top-level descriptions to compare, keyed by QOM type or section name. */
export interface CheckSet {
  label: string;
  machine?: string;
  entries: Map<string, CheckDesc>;
  /** Where the set came from: a dump has C sizes and no variable-length bounds. */
  origin: 'dump' | 'dsl';
}

interface DumpDesc {
  name: string;
  version_id: number;
  minimum_version_id: number;
  Fields?: DumpField[];
  Subsections?: DumpDesc[];
}
interface DumpField {
  field: string;
  version_id: number;
  field_exists: boolean;
  size: number;
  num?: number;
  Description?: DumpDesc;
}

/** Reads QEMU's -dump-vmstate JSON (savevm.c dump_vmstate_json_to_file). */
export function fromDumpJson(json: unknown, label: string): CheckSet {
  if (!json || typeof json !== 'object')
    throw new Error(`${label}: not a -dump-vmstate JSON object`);
  const entries = new Map<string, CheckDesc>();
  let machine: string | undefined;
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    if (key === 'vmschkmachine') {
      machine = (value as { Name?: string }).Name;
      continue;
    }
    const desc = (value as { Description?: DumpDesc }).Description;
    if (!desc || typeof desc.name !== 'string')
      throw new Error(`${label}: entry '${key}' has no Description`);
    entries.set(key, fromDumpDesc(desc));
  }
  // Older dump formats print no `num` at all: mark every field of such a dump, so an array is
  // not taken for one element (10.0's dump of the same array says `size` 4, `num` 32).
  const hasNum = [...entries.values()].some(function anyNum(d: CheckDesc): boolean {
    return (
      d.fields.some((f) => f.num !== undefined || (f.struct && anyNum(f.struct))) ||
      d.subsections.some(anyNum)
    );
  });
  if (!hasNum) for (const d of entries.values()) markNumUnknown(d);
  return { label, machine, entries, origin: 'dump' };
}

function markNumUnknown(d: CheckDesc): void {
  for (const f of d.fields) {
    f.numUnknown = true;
    if (f.struct) markNumUnknown(f.struct);
  }
  d.subsections.forEach(markNumUnknown);
}

function fromDumpDesc(d: DumpDesc): CheckDesc {
  return {
    name: d.name,
    version_id: d.version_id,
    minimum_version_id: d.minimum_version_id,
    fields: (d.Fields ?? []).map((f) => ({
      name: f.field,
      version_id: f.version_id,
      field_exists: f.field_exists,
      size: f.size,
      num: f.num,
      struct: f.Description ? fromDumpDesc(f.Description) : undefined,
      unused: f.field === 'unused',
    })),
    subsections: (d.Subsections ?? []).map(fromDumpDesc),
  };
}

/** Reduces a DSL description to the checker's model (validate pseudo-fields carry no bytes and are left out, as in the dump). */
export function fromVmsd(d: AnyVMSDesc): CheckDesc {
  return {
    name: d.name,
    version_id: d.version_id,
    minimum_version_id: d.minimum_version_id,
    fields: d.fields.filter((f) => f.shape !== 'validate').map(fromField),
    subsections: (d.subsections as readonly AnyVMSDesc[]).map(fromVmsd),
    vmsd: d,
  };
}

function fromField(f: AnyField): CheckField {
  const nested = (f.kind as { desc?: AnyVMSDesc }).desc;
  return {
    name: f.name,
    version_id: f.version,
    field_exists: !!f.exists,
    size: f.kind.wireSize ?? 0,
    num: f.count.from === 'fixed' ? f.count.n : undefined,
    struct: nested ? fromVmsd(nested) : undefined,
    unused: f.shape === 'unused',
    varLength: f.count.from === 'field' ? { field: f.count.field, max: f.count.max } : undefined,
    type: f.kind.type,
  };
}

/** Bytes one field takes on the wire when that is fixed (struct sizes add up their fields). */
export function fieldWireSize(f: CheckField): number | undefined {
  if (f.varLength || f.field_exists) return undefined;
  const n = f.num ?? 1;
  if (f.struct) {
    if (f.struct.subsections.length > 0) return undefined;
    let total = 0;
    for (const g of f.struct.fields) {
      const s = fieldWireSize(g);
      if (s === undefined) return undefined;
      total += s;
    }
    return total * n;
  }
  return f.size * n;
}
