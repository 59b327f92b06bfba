/**
 * Values decoded by a VM description. Every node remembers its type, absolute offset and size on
 * the wire, so analysis can show where a field lives and edits can be checked against its width.
 */
export type DescValue = DescInt | DescBool | DescBytes | DescStruct | DescNullPtr | DescCapability;

interface Placed {
  /** The vmdesc type string (`uint32`, `int32 equal`, `timer`, `struct`, ...). */
  type: string;
  /** Absolute offset of the first byte. */
  offset: number;
  /** Bytes on the wire. */
  size: number;
}

/** Integers of any width; `signed` follows how analyze-migration.py prints the type. */
export interface DescInt extends Placed {
  kind: 'int';
  signed: boolean;
  value: bigint;
}

/** Kept as the raw byte: QEMU reads any non-zero byte as true, and re-encoding must not change it. */
export interface DescBool extends Placed {
  kind: 'bool';
  byte: number;
}

/** Types shown as raw bytes (buffers, timers, unused, tmp, pci config, unknown types). */
export interface DescBytes extends Placed {
  kind: 'bytes';
  data: Uint8Array;
  /** For `tmp` fields whose inline description decodes the bytes exactly: that view (read-only). */
  inner?: DescStruct;
}

export interface DescNullPtr extends Placed {
  kind: 'nullptr';
}

/** The configuration's capability entries: u8 length + name. */
export interface DescCapability extends Placed {
  kind: 'capability';
  name: string;
}

export interface DescEntry {
  /** Field name as in the vmdesc (repeated names already carry QEMU's `[k]` suffix). */
  name: string;
  /** Element index for unfolded arrays. */
  index?: number;
  value: DescValue;
}

export interface DescSubsection {
  name: string;
  version: number;
  /** Absolute offset of the 0x05 byte. */
  offset: number;
  body: DescStruct;
}

export interface DescStruct extends Placed {
  kind: 'struct';
  vmsdName?: string;
  version?: number;
  entries: DescEntry[];
  subsections: DescSubsection[];
}

/**
 * The entries grouped the way analyze-migration.py groups them: one key per distinct name in
 * first-seen order; a name seen more than once becomes a list. Subsections follow, keyed by name.
 */
export function groupedEntries(
  s: DescStruct,
): Array<[string, DescValue | DescValue[] | DescStruct]> {
  const out = new Map<string, DescValue | DescValue[] | DescStruct>();
  for (const e of s.entries) {
    const prev = out.get(e.name);
    if (prev === undefined) out.set(e.name, e.value);
    else if (Array.isArray(prev)) prev.push(e.value);
    else out.set(e.name, [prev as DescValue, e.value]);
  }
  for (const sub of s.subsections) out.set(sub.name, sub.body);
  return [...out.entries()];
}

/** Where a struct whose entries were never read keeps its bytes (vmdesc-codec.ts's lazy bodies). */
export const LAZY = Symbol('vmdesc lazy body');

/** Asking does not read the entries of a lazy struct. */
export function isDescStruct(v: unknown): v is DescStruct {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as DescStruct).kind === 'struct' &&
    ((v as { [LAZY]?: unknown })[LAZY] !== undefined || Array.isArray((v as DescStruct).entries))
  );
}
