import { MalformedError } from '../errors';
import { Limits, SectionType } from './constants';
import type { ChunkSource } from './source';

/**
 * The VM description QEMU appends after EOF (savevm.c / vmstate.c's JSON writer). It is purely
 * informational for QEMU, but it is the only thing that says how long each device section is
 * when no device catalog is at hand, so we decode sections by it, as analyze-migration.py does.
 */
export interface VmdescField {
  name: string;
  type: string;
  size?: number;
  array_len?: number;
  index?: number;
  struct?: VmdescVmsd;
  /** `tmp` fields carry their temporary VMSD inline. */
  vmsd_name?: string;
  version?: number;
  fields?: VmdescField[];
  subsections?: VmdescVmsd[];
}

export interface VmdescVmsd {
  vmsd_name?: string;
  version?: number;
  fields: VmdescField[];
  subsections?: VmdescVmsd[];
}

export interface VmdescDevice extends VmdescVmsd {
  name: string;
  instance_id: number;
  /** Legacy (non-VMSD) sections say their size instead of a vmsd_name. */
  size?: number;
}

export interface Vmdesc {
  page_size?: number;
  configuration?: VmdescVmsd;
  devices: VmdescDevice[];
}

/** Parses and shape-checks the JSON text; `offset` is where the JSON starts in the stream. */
export function parseVmdesc(json: Uint8Array, offset: number): Vmdesc {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: false }).decode(json));
  } catch (e) {
    throw new MalformedError(
      `VM description is not valid JSON: ${(e as Error).message}`,
      offset,
      'vmdesc',
    );
  }
  const fail = (what: string) => new MalformedError(`VM description: ${what}`, offset, 'vmdesc');
  if (!isObject(value)) throw fail('top level is not an object');
  if (!Array.isArray(value.devices)) throw fail('no "devices" array');
  if (value.page_size !== undefined && !isPageSize(value.page_size))
    throw fail(`bad page_size ${String(value.page_size)}`);
  value.devices.forEach((d, i) => {
    if (!isObject(d) || typeof d.name !== 'string' || !Number.isInteger(d.instance_id))
      throw fail(`device ${i} has no name/instance_id`);
    checkVmsd(d, `devices[${i}] (${d.name})`, fail, 0);
  });
  if (value.configuration !== undefined) checkVmsd(value.configuration, 'configuration', fail, 0);
  return value as unknown as Vmdesc;
}

function checkVmsd(v: unknown, where: string, fail: (w: string) => Error, depth: number): void {
  if (depth > 64) throw fail(`${where}: nested too deeply`);
  if (!isObject(v) || !Array.isArray(v.fields)) throw fail(`${where} has no "fields" array`);
  // Plain loops, no array or string per field: a device-heavy stream's description has
  // thousands of fields, checked once, in a short run's unoptimized code.
  const fields: unknown[] = v.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (!isObject(f) || typeof f.name !== 'string' || typeof f.type !== 'string')
      throw fail(`${where}.fields[${i}] has no name/type`);
    const bad = !count(f.size)
      ? 'size'
      : !count(f.array_len)
        ? 'array_len'
        : !count(f.index)
          ? 'index'
          : undefined;
    if (bad) throw fail(`${where}.${f.name}: bad ${bad}`);
    if (f.type === 'struct') checkVmsd(f.struct, `${where}.${f.name}`, fail, depth + 1);
    if (f.fields !== undefined) checkVmsd(f, `${where}.${f.name}`, fail, depth + 1);
  }
  if (v.subsections !== undefined) {
    if (!Array.isArray(v.subsections)) throw fail(`${where}.subsections is not an array`);
    const subsections: unknown[] = v.subsections;
    for (let i = 0; i < subsections.length; i++)
      checkVmsd(subsections[i], `${where}.subsections[${i}]`, fail, depth + 1);
  }
}

/** A field's size, array_len or index: absent, or a whole number >= 0. */
function count(x: unknown): boolean {
  return x === undefined || (Number.isSafeInteger(x) && (x as number) >= 0);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isPageSize(v: unknown): boolean {
  return (
    Number.isInteger(v) &&
    (v as number) >= 512 &&
    (v as number) <= 1 << 30 &&
    ((v as number) & ((v as number) - 1)) === 0
  );
}

/** Where the end of a file says a VM description is: whole, or cut short (its length runs past the end). */
export type VmdescAtEnd =
  | { kind: 'found'; offset: number; json: Uint8Array }
  | { kind: 'truncated'; offset: number; length: number; available: number };

type Framing =
  | { kind: 'found'; offset: number; length: number }
  | { kind: 'truncated'; offset: number; length: number; available: number };

/** The marker is at most 4 bytes before the last 0x06 of the file (see locateVmdescFromEnd). */
const MARKER_SPAN = 5;
/** How much of the file's end is checked to be text before calling a long length a cut. */
const TEXT_CHECK_BYTES = 4096;

/**
 * Finds the vmdesc by its structure from the end of a seekable input. A description is the
 * marker 0x06, a be32 length and that many bytes of JSON text ending the file; JSON text holds no
 * raw 0x06, so the last 0x06 of the file is the marker itself or one of its four length bytes
 * (a length such as 0x00015706). Each of those candidates is checked by its framing: the length
 * must reach exactly the end of the file and the text must start with '{'. A candidate whose
 * length runs past the end, followed by text only, is a description cut short.
 * Returns undefined when the file does not end with a description.
 */
export async function locateVmdescFromEnd(
  source: ChunkSource,
  maxBytes: number = Limits.maxVmdescBytes,
): Promise<VmdescAtEnd | undefined> {
  if (source.size === undefined || !source.readAt) return undefined;
  const size = source.size;
  const step = 1 << 20;
  let hi = size;
  const lowest = Math.max(0, size - maxBytes - MARKER_SPAN);
  while (hi > lowest) {
    const lo = Math.max(lowest, hi - step);
    const chunk = await source.readAt(lo, hi - lo);
    const i = lastByte(chunk, SectionType.VMDESCRIPTION);
    if (i >= 0) {
      const last = lo + i;
      const from = Math.max(0, last - (MARKER_SPAN - 1));
      const head = await source.readAt(from, Math.min(size, last + MARKER_SPAN + 1) - from);
      const tailFrom = Math.min(size, Math.max(last + MARKER_SPAN, size - TEXT_CHECK_BYTES));
      const tail = await source.readAt(tailFrom, size - tailFrom);
      const r = vmdescFraming(head, from, size, tail);
      if (r?.kind !== 'found') return r;
      return { kind: 'found', offset: r.offset, json: await source.readAt(r.offset + 5, r.length) };
    }
    hi = lo;
  }
  return undefined;
}

/**
 * The last index of a byte value: Buffer's search (memrchr), 50 times faster than
 * Uint8Array.prototype.lastIndexOf's element loop over a MiB without one (a cut stream's end).
 */
function lastByte(bytes: Uint8Array, value: number): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).lastIndexOf(value);
}

/** Same search over bytes in memory (a buffered tail of a non-seekable input). */
export function locateVmdescInBytes(bytes: Uint8Array, base: number): VmdescAtEnd | undefined {
  const last = lastByte(bytes, SectionType.VMDESCRIPTION);
  if (last < 0) return undefined;
  const from = Math.max(0, last - (MARKER_SPAN - 1));
  const head = bytes.subarray(from, Math.min(bytes.length, last + MARKER_SPAN + 1));
  const tail = bytes.subarray(Math.max(last + MARKER_SPAN, bytes.length - TEXT_CHECK_BYTES));
  const r = vmdescFraming(head, base + from, base + bytes.length, tail);
  if (r?.kind !== 'found') return r;
  return { kind: 'found', offset: r.offset, json: bytes.subarray(r.offset - base + 5) };
}

/**
 * Checks each 0x06 in `head` (the bytes from absolute offset `from` up to 5 bytes past the last
 * 0x06 of a file of `size` bytes, whose last bytes, all after every candidate's length, are
 * `tail`) as a description's marker, the last first.
 */
function vmdescFraming(
  head: Uint8Array,
  from: number,
  size: number,
  tail: Uint8Array,
): Framing | undefined {
  let cut: Framing | undefined;
  for (let i = head.length - 1; i >= 0; i--) {
    if (head[i] !== SectionType.VMDESCRIPTION) continue;
    const marker = from + i;
    // A file that ends inside the length bytes is left to the forward walk (an EOF byte after a
    // footer whose id holds 0x06 looks the same).
    if (i + 5 > head.length) continue;
    const len =
      ((head[i + 1] << 24) >>> 0) + (head[i + 2] << 16) + (head[i + 3] << 8) + head[i + 4];
    const text = marker + 5;
    if (text < size && head[i + 5] !== 0x7b /* '{' */) continue;
    if (text + len === size && len > 0) return { kind: 'found', offset: marker, length: len };
    if (text + len > size && !cut && looksLikeJsonText(tail))
      cut = { kind: 'truncated', offset: marker, length: len, available: size - text };
  }
  return cut;
}

/** JSON as QEMU writes it: printable text and whitespace, no other control bytes. */
function looksLikeJsonText(b: Uint8Array): boolean {
  // An indexed loop: the iterator form cost a fuzz cut near the end of a file 10 us for 4 KiB.
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}

/** Matches stream sections to vmdesc devices by (idstr, instance), each description used once, in order. */
export class VmdescIndex {
  private readonly byKey = new Map<string, VmdescDevice[]>();
  private readonly used = new Map<string, number>();

  constructor(readonly desc: Vmdesc) {
    for (const d of desc.devices) {
      // Stream idstrs are raw bytes (read 1:1 as latin1); JSON names are text: compare as bytes.
      const k = key(bytesAsLatin1(d.name), d.instance_id);
      const list = this.byKey.get(k);
      if (list) list.push(d);
      else this.byKey.set(k, [d]);
    }
  }

  /** The next unused description for this section (a repeated section reuses the last one). */
  take(idstr: string, instanceId: number): VmdescDevice | undefined {
    const k = key(idstr, instanceId);
    const list = this.byKey.get(k);
    if (!list) return undefined;
    const n = this.used.get(k) ?? 0;
    this.used.set(k, n + 1);
    return list[Math.min(n, list.length - 1)];
  }

  get pageSize(): number | undefined {
    return this.desc.page_size;
  }
}

function bytesAsLatin1(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  return String.fromCharCode(...new TextEncoder().encode(text));
}

function key(idstr: string, instance: number): string {
  return `${instance}\u0000${idstr}`;
}
