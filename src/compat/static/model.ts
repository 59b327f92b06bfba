import { deeperThan, issueKey } from '../../json-input';
import { z } from 'zod';
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

/** A -dump-vmstate file that does not have QEMU's shape; `key` is the JSON path of what is wrong. */
export class DumpFormatError extends Error {
  constructor(
    readonly file: string,
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${file}: ${key ? `${key}: ` : ''}${reason}`);
  }
}

/** JSON nesting deeper than any QEMU description gives (structs in structs, subsections of subsections). */
const MAX_DUMP_DEPTH = 200;
/** QEMU keeps versions in an int; sizes are a C type's size (a page, a buffer), never 2^31 and up. */
const version = z.number().int().min(0).max(0x7fffffff);
const size = z.number().int().min(0).max(0x7fffffff);

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

// savevm.c's dump_vmstate_vmsd / dump_vmstate_vmsf, key for key; keys QEMU adds later are allowed.
const dumpDesc: z.ZodType<DumpDesc> = z.lazy(() =>
  z.object({
    name: z.string(),
    version_id: version,
    minimum_version_id: version,
    Fields: z.array(dumpField).optional(),
    Subsections: z.array(dumpDesc).optional(),
  }),
);
const dumpField: z.ZodType<DumpField> = z.lazy(() =>
  z.object({
    field: z.string(),
    version_id: version,
    field_exists: z.boolean(),
    size,
    num: size.optional(),
    Description: dumpDesc.optional(),
  }),
);
const dumpEntry = z.object({
  Name: z.string().optional(),
  version_id: version.optional(),
  minimum_version_id: version.optional(),
  Description: dumpDesc,
});
const dumpMachine = z.object({ Name: z.string() });

/** Reads QEMU's -dump-vmstate JSON (savevm.c dump_vmstate_json_to_file), checked key by key. */
export function fromDumpJson(json: unknown, label: string): CheckSet {
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new DumpFormatError(label, '', 'not a -dump-vmstate JSON object');
  const tooDeep = deeperThan(json, MAX_DUMP_DEPTH);
  if (tooDeep !== undefined)
    throw new DumpFormatError(label, tooDeep, `nested more than ${MAX_DUMP_DEPTH} levels deep`);
  const entries = new Map<string, CheckDesc>();
  let machine: string | undefined;
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    if (key === 'vmschkmachine') {
      machine = parsed(dumpMachine, value, label, key).Name;
      continue;
    }
    entries.set(key, fromDumpDesc(parsed(dumpEntry, value, label, key).Description));
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

function parsed<T>(schema: z.ZodType<T>, value: unknown, file: string, key: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  return fail(file, issueKey(issue.path, key), issue.message);
}

function fail(file: string, key: string, reason: string): never {
  throw new DumpFormatError(file, key, reason);
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
