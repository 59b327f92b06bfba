/**
 * The static description QEMU prints with `-dump-vmstate` (migration/savevm.c,
 * dump_vmstate_json_to_file), built from a catalog description: what
 * scripts/vmstate-static-checker.py compares. Field sizes there are C sizes (VMStateField.size),
 * not wire sizes; where the two differ for a non-struct field the description says so with
 * `dumpSize(...)`. Struct fields report QEMU's sizeof() of the C struct, which says nothing about
 * the wire and which the static checker never compares; here they report the nested
 * description's fixed wire size (0 when it varies).
 */
import { unreachableShape, type AnyField, type AnyVMSDesc } from '../src/dsl-kit';

export interface DumpField {
  field: string;
  version_id: number;
  field_exists: boolean;
  /** Only when asked for (QEMU 7.2 does not print it). */
  num?: number;
  size: number;
  Description?: DumpDescription;
}

export interface DumpDescription {
  name: string;
  version_id: number;
  minimum_version_id: number;
  Fields: DumpField[];
  Subsections?: DumpDescription[];
}

/** One top-level entry of the dump, keyed by QOM type name in the file. */
export interface DumpEntry {
  Name: string;
  version_id: number;
  minimum_version_id: number;
  Description: DumpDescription;
}

export interface DumpOptions {
  /** Print `num` for fixed-count arrays (QEMU 7.2 does not). */
  readonly num?: boolean;
}

const cSizes = new WeakMap<AnyField, number>();

const withoutNum = new WeakSet<AnyField>();

/**
 * Declares a field QEMU's dump prints without `num` although the description has a fixed count:
 * a VARRAY, VBUFFER or pointer array whose length comes from the device's configuration (DIMM
 * slots, AHCI ports, buffer sizes), not from VMStateField.num.
 */
export function dumpWithoutNum<F extends AnyField>(field: F): F {
  withoutNum.add(field);
  return field;
}

/** Declares the C size QEMU's VMStateField.size has for a field whose wire element size differs. */
export function dumpSize<F extends AnyField>(field: F, size: number): F {
  cSizes.set(field, size);
  return field;
}

/** The -dump-vmstate "Description" object of a description (top level or subsection). */
export function dumpVmstateOf(desc: AnyVMSDesc, opts: DumpOptions = {}): DumpDescription {
  const out: DumpDescription = {
    name: desc.name,
    version_id: desc.version_id,
    minimum_version_id: desc.minimum_version_id,
    Fields: [],
  };
  for (const f of desc.fields) {
    if (f.shape === 'validate') continue; // QEMU's dump skips VMSTATE_VALIDATE entries
    const entry = {
      field: f.name,
      version_id: f.version,
      field_exists: f.exists !== undefined,
    } as DumpField;
    if (opts.num && f.shape === 'array' && f.count.from === 'fixed' && !withoutNum.has(f))
      entry.num = f.count.n;
    entry.size = fieldSize(f);
    const nested = (f.kind as { desc?: AnyVMSDesc }).desc;
    if (nested) entry.Description = dumpVmstateOf(nested, opts);
    out.Fields.push(entry);
  }
  const subs = desc.subsections as readonly AnyVMSDesc[];
  if (subs.length) out.Subsections = subs.map((s) => dumpVmstateOf(s, opts));
  return out;
}

/** A whole top-level entry as the dump file has it under the device's QOM type name. */
export function dumpVmstateEntry(
  qomType: string,
  desc: AnyVMSDesc,
  opts: DumpOptions = {},
): DumpEntry {
  return {
    Name: qomType,
    version_id: desc.version_id,
    minimum_version_id: desc.minimum_version_id,
    Description: dumpVmstateOf(desc, opts),
  };
}

/** One element's size: declared C size, else the kind's wire size (buffers: their length). */
function fieldSize(f: AnyField): number {
  const declared = cSizes.get(f);
  if (declared !== undefined) return declared;
  switch (f.shape) {
    case 'vbuffer':
      return 0;
    case 'value':
    case 'array':
    case 'unused':
    case 'validate': {
      const nested = (f.kind as { desc?: AnyVMSDesc }).desc;
      if (nested) return fixedWireSize(nested) ?? 0;
      return f.kind.wireSize ?? 0;
    }
    default:
      return unreachableShape(f.shape);
  }
}

/** Bytes a description always takes on the wire at its own version, or undefined if that varies. */
function fixedWireSize(d: AnyVMSDesc): number | undefined {
  if ((d.subsections as readonly AnyVMSDesc[]).length) return undefined;
  let total = 0;
  for (const f of d.fields) {
    if (f.shape === 'validate') continue;
    if (f.exists || f.version > d.version_id || f.count.from === 'field' || f.shape === 'vbuffer')
      return undefined;
    const nested = (f.kind as { desc?: AnyVMSDesc }).desc;
    const one = nested ? fixedWireSize(nested) : f.kind.wireSize;
    if (one === undefined) return undefined;
    total += one * (f.count.from === 'fixed' ? f.count.n : 1);
  }
  return total;
}
