/**
 * The `cpu` (and neighbouring) section bodies of the real QEMU 7.2 streams, cut out by their
 * framing alone: `04 <be32 id> <len> <idstr> <be32 instance> <be32 version>` opens a FULL section
 * and `7e <be32 id>` closes it. Independent of src/stream so the catalog is checked against the
 * bytes without trusting another decoder.
 */
import { readFileSync } from 'fs';
import { join } from 'path';

/** The real QEMU 7.2 streams, kept in the repository (streams/qemu-7.2). */
export const QEMU_STREAMS = join(__dirname, '..', '..', 'streams', 'qemu-7.2');
export const REAL_STREAMS = [
  'pc-nodefaults-paused',
  'pc-nodefaults-running',
  'q35-nodefaults-paused',
] as const;

export interface CutSection {
  readonly sectionId: number;
  readonly instanceId: number;
  readonly version: number;
  /** Offset of the 0x04 byte. */
  readonly offset: number;
  /** Header + body + footer, exactly as in the file. */
  readonly whole: Uint8Array;
  readonly body: Uint8Array;
  readonly bodyOffset: number;
}

export interface VmdescDeviceEntry {
  name: string;
  instance_id: number;
  vmsd_name: string;
  version: number;
  fields: unknown[];
  subsections?: unknown[];
}

export function readStream(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(QEMU_STREAMS, `${name}.mig`)));
}

const be32 = (b: Uint8Array, at: number) =>
  ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/**
 * Whether a record the closing footer can be followed by starts at `at`: another FULL section (a
 * header with a printable idstr) or EOF (the end of the stream, or the VM description to its
 * end). A footer's five bytes alone also occur inside a body: a running VM's timer section whose
 * cpu_ticks_offset ends in 0x7e, with the zero `dummy` after it, reads as `7e 00000000 00`.
 */
function recordAt(stream: Uint8Array, at: number): boolean {
  if (stream[at] === 0x04) {
    const n = stream[at + 5];
    if (n === 0 || at + 6 + n + 8 > stream.length) return false;
    for (let k = at + 6; k < at + 6 + n; k++)
      if (stream[k] < 0x20 || stream[k] > 0x7e) return false;
    return true;
  }
  if (stream[at] !== 0x00) return false;
  if (at + 1 === stream.length) return true;
  return stream[at + 1] === 0x06 && at + 6 + be32(stream, at + 2) === stream.length;
}

/** Every FULL section named `idstr` (one per instance). */
export function cutFullSections(stream: Uint8Array, idstr: string): CutSection[] {
  const name = Buffer.from(idstr, 'latin1');
  const out: CutSection[] = [];
  for (let at = 0; at + 14 + name.length <= stream.length; at++) {
    if (stream[at] !== 0x04 || stream[at + 5] !== name.length) continue;
    if (!Buffer.from(stream.subarray(at + 6, at + 6 + name.length)).equals(name)) continue;
    const sectionId = be32(stream, at + 1);
    const instanceId = be32(stream, at + 6 + name.length);
    const version = be32(stream, at + 10 + name.length);
    const bodyOffset = at + 14 + name.length;
    // The footer: 7e + the same id, and what follows is the next record (a section or EOF).
    const footer = [
      0x7e,
      sectionId >>> 24,
      (sectionId >>> 16) & 0xff,
      (sectionId >>> 8) & 0xff,
      sectionId & 0xff,
    ];
    let end = bodyOffset;
    for (; end + 5 <= stream.length; end++) {
      if (footer.every((b, i) => stream[end + i] === b) && recordAt(stream, end + 5)) break;
    }
    out.push({
      sectionId,
      instanceId,
      version,
      offset: at,
      whole: stream.subarray(at, end + 5),
      body: stream.subarray(bodyOffset, end),
      bodyOffset,
    });
  }
  return out;
}

/** The stream's own vmdesc JSON (found from the end: 00 06 <be32 len> JSON). */
export function streamVmdesc(stream: Uint8Array): {
  page_size: number;
  devices: VmdescDeviceEntry[];
} {
  for (let at = stream.length - 6; at > 0; at--) {
    if (stream[at] !== 0x06 || stream[at - 1] !== 0x00) continue;
    const len = be32(stream, at + 1);
    if (at + 5 + len === stream.length)
      return JSON.parse(Buffer.from(stream.subarray(at + 5)).toString('utf8'));
  }
  throw new Error('no vmdesc at the end of the stream');
}

export function vmdescEntry(stream: Uint8Array, name: string, instance = 0): VmdescDeviceEntry {
  const e = streamVmdesc(stream).devices.find((d) => d.name === name && d.instance_id === instance);
  if (!e) throw new Error(`no vmdesc entry for ${name}#${instance}`);
  return e;
}
