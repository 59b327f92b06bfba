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
  v.fields.forEach((f, i) => {
    if (!isObject(f) || typeof f.name !== 'string' || typeof f.type !== 'string')
      throw fail(`${where}.fields[${i}] has no name/type`);
    for (const k of ['size', 'array_len', 'index'] as const)
      if (f[k] !== undefined && !(Number.isSafeInteger(f[k]) && (f[k] as number) >= 0))
        throw fail(`${where}.${f.name}: bad ${k}`);
    if (f.type === 'struct') checkVmsd(f.struct, `${where}.${f.name}`, fail, depth + 1);
    if (f.fields !== undefined) checkVmsd(f, `${where}.${f.name}`, fail, depth + 1);
  });
  if (v.subsections !== undefined) {
    if (!Array.isArray(v.subsections)) throw fail(`${where}.subsections is not an array`);
    v.subsections.forEach((s, i) => checkVmsd(s, `${where}.subsections[${i}]`, fail, depth + 1));
  }
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

/**
 * Finds the vmdesc by its framing from the end of a seekable input: the JSON text cannot contain
 * a raw 0x06 byte, so the last 0x06 in the file is the marker if a vmdesc ends the file; its be32
 * length must then reach exactly the end of the file. Unlike a NUL/'{' search this does not care
 * what the length bytes contain or what binary data precedes the marker.
 * Returns undefined when the file does not end with a vmdesc.
 */
export async function locateVmdescFromEnd(
  source: ChunkSource,
  maxBytes: number = Limits.maxVmdescBytes,
): Promise<{ offset: number; json: Uint8Array } | undefined> {
  if (source.size === undefined || !source.readAt) return undefined;
  const size = source.size;
  const step = 1 << 20;
  let hi = size;
  const lowest = Math.max(0, size - maxBytes - 5);
  let firstCandidate: number | undefined;
  while (hi > lowest) {
    const lo = Math.max(lowest, hi - step);
    const chunk = await source.readAt(lo, hi - lo);
    for (let i = chunk.length - 1; i >= 0; i--) {
      if (chunk[i] !== SectionType.VMDESCRIPTION) continue;
      const marker = lo + i;
      // The last 0x06 may be a byte of the be32 length (87,814 = 00 01 57 06): the marker is
      // then at most 4 bytes before it.
      firstCandidate ??= marker;
      if (firstCandidate - marker > 4) return undefined;
      const head = await source.readAt(marker, 6);
      if (head.length < 6) continue;
      const len = ((head[1] << 24) >>> 0) + (head[2] << 16) + (head[3] << 8) + head[4];
      if (marker + 5 + len !== size || head[5] !== 0x7b /* '{' */) continue;
      const json = await source.readAt(marker + 5, len);
      return { offset: marker, json };
    }
    hi = lo;
  }
  return undefined;
}

/** Same search over bytes in memory (a buffered tail of a non-seekable input). */
export function locateVmdescInBytes(
  bytes: Uint8Array,
  base: number,
): { offset: number; json: Uint8Array } | undefined {
  const last = bytes.lastIndexOf(SectionType.VMDESCRIPTION);
  // As locateVmdescFromEnd: the last 0x06 may be a byte of the length, the marker just before.
  for (let i = last; i >= 0 && last - i <= 4; i--) {
    if (bytes[i] !== SectionType.VMDESCRIPTION || i + 6 > bytes.length) continue;
    const len =
      ((bytes[i + 1] << 24) >>> 0) + (bytes[i + 2] << 16) + (bytes[i + 3] << 8) + bytes[i + 4];
    if (i + 5 + len !== bytes.length || bytes[i + 5] !== 0x7b) continue;
    return { offset: base + i, json: bytes.subarray(i + 5) };
  }
  return undefined;
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
