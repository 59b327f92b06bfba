/**
 * The fuzz campaign's inputs. Each input is named by a small descriptor (a stream and a cut, or a
 * stream, a mutation and a seed, or a hostile shape), from which its bytes are made again exactly:
 * a failure is reproduced, and saved, from its descriptor alone.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { readStreamContents, type StreamContents } from '../../src/stream/collect';
import { MemorySink } from '../../src/stream/sink';
import { bytesSource } from '../../src/stream/source';
import { StreamBuilder } from '../../src/stream/synth';
import { Command, RamFlag, SectionType } from '../../src/stream/constants';
import { ByteWriter } from '../../src/bytes/writer';

export type Descriptor =
  | { kind: 'truncate'; stream: string; at: number }
  | { kind: 'mutate'; stream: string; mutation: MutationName; seed: number }
  | { kind: 'hostile'; shape: HostileShape; seed: number };

/** A committed real stream and what the campaign knows of its structure. */
export interface SeedStream {
  name: string;
  bytes: Uint8Array;
  /** Integer fields of the records' framing (ids, lengths, versions), with their widths. */
  ints: { at: number; width: 1 | 4 | 8 }[];
  /**
   * Section bodies, whose words at 4-byte steps from `from` (while 8 bytes fit before `to`) are
   * integer fields too (the codec's fields are big-endian words). Kept as ranges: 50 streams of
   * words as objects would be millions.
   */
  words: { from: number; to: number }[];
  /** Section header positions (type byte offsets). */
  sections: number[];
  /** The EOF byte and the VM description's marker, when present. */
  eof: number;
  vmdesc?: { offset: number; json: string };
}

const REPO = path.resolve(__dirname, '..', '..');
/** Where the committed streams of the real releases are (tests run from the sources, the campaign from dist/). */
const STREAMS = [path.join(REPO, 'streams'), path.join(REPO, '..', 'streams')].find((d) =>
  fs.existsSync(path.join(d, 'qemu-7.2')),
);
export const STREAM_DIRS = STREAMS
  ? fs
      .readdirSync(STREAMS)
      .filter((n) => /^qemu-\d+\.\d+$/.test(n))
      .sort()
      .map((n) => path.join(STREAMS, n))
  : [];

/** Every committed real stream (*.mig, *.mig.gz), and any under the extra directories given. */
export function seedStreamFiles(extraDirs: string[] = []): string[] {
  const files: string[] = [];
  for (const d of [...STREAM_DIRS, ...extraDirs]) {
    if (!fs.existsSync(d)) continue;
    for (const n of fs.readdirSync(d).sort())
      if (/\.mig(\.gz)?$/.test(n)) files.push(path.join(d, n));
  }
  return files;
}

/** A seed's name: its release directory and file name ("qemu-5.2/pc-5.2-defaults"). */
export function seedName(file: string): string {
  return `${path.basename(path.dirname(file))}/${path.basename(file).replace(/\.mig(\.gz)?$/, '')}`;
}

export async function loadSeed(file: string): Promise<SeedStream> {
  const raw = fs.readFileSync(file);
  const bytes = new Uint8Array(file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw);
  const c: StreamContents = await readStreamContents(bytesSource(bytes));
  const ints: SeedStream['ints'] = [];
  const words: SeedStream['words'] = [];
  const sections: number[] = [];
  for (const e of c.entries) {
    if (e.type === 'section') {
      const s = e.section;
      sections.push(s.offset);
      ints.push({ at: s.offset + 1, width: 4 }); // section id
      if (s.kind === 'full' || s.kind === 'start') {
        ints.push({ at: s.offset + 5, width: 1 }); // idstr length
        const afterName = s.offset + 6 + s.idstr.length;
        ints.push({ at: afterName, width: 4 }, { at: afterName + 4, width: 4 }); // instance, version
      }
      // Integers inside the body, at 4-byte steps: the codec's fields are big-endian words.
      words.push({ from: s.bodyOffset, to: s.bodyOffset + s.body.length });
      if (s.footer) ints.push({ at: s.footer.offset + 1, width: 4 });
    } else if (e.type === 'ram-section') {
      sections.push(e.offset);
      ints.push({ at: e.offset + 1, width: 4 });
      // The first records: MEM_SIZE and block list entries, or page headers.
      for (
        let at = e.offset + (e.kind === 'start' ? 19 : 5);
        at < e.offset + Math.min(e.size, 200);
        at += 8
      )
        ints.push({ at, width: 8 });
    } else if (e.type === 'command') {
      ints.push({ at: e.offset + 1, width: 4 });
    }
  }
  if (c.configuration) ints.push({ at: c.configuration.offset + 1, width: 4 });
  const vmdesc = c.vmdesc
    ? { offset: c.vmdesc.offset, json: Buffer.from(c.vmdesc.json).toString('latin1') }
    : undefined;
  if (vmdesc) ints.push({ at: vmdesc.offset + 1, width: 4 });
  return {
    name: seedName(file),
    bytes,
    ints,
    words,
    sections,
    eof: c.eof?.offset ?? bytes.length - 1,
    vmdesc,
  };
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness.

/** mulberry32: a small seeded generator, so a descriptor's seed gives the same bytes anywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: () => number, n: number) => Math.floor(r() * n);

// ---------------------------------------------------------------------------------------------
// Mutations of real streams.

export const MUTATIONS = [
  'bit-flips',
  'integer-field',
  'length-byte',
  'section-id',
  'section-type',
  'vmdesc-json',
  'vmdesc-length',
  'splice',
] as const;
export type MutationName = (typeof MUTATIONS)[number];

/** The values QEMU's loaders have been caught out by. */
const EDGE: Record<1 | 4 | 8, bigint[]> = {
  1: [0n, 0xffn, 0x7fn, 0x80n, 1n],
  4: [0n, 0xffffffffn, 0x80000000n, 0x7fffffffn, 1n, 0x10000n],
  8: [0n, 0xffffffffffffffffn, 0x8000000000000000n, 0x7fffffffffffffffn, 1n << 52n, 1n << 31n],
};

function putInt(b: Uint8Array, at: number, width: 1 | 4 | 8, v: bigint): void {
  for (let i = width - 1; i >= 0 && at + i < b.length; i--, v >>= 8n)
    if (at + i >= 0) b[at + i] = Number(v & 0xffn);
}

function reframeVmdesc(s: SeedStream, json: string): Uint8Array {
  const head = s.bytes.subarray(0, s.vmdesc!.offset);
  const text = Buffer.from(json, 'latin1');
  const out = new Uint8Array(head.length + 5 + text.length);
  out.set(head);
  out[head.length] = SectionType.VMDESCRIPTION;
  new DataView(out.buffer).setUint32(head.length + 1, text.length);
  out.set(text, head.length + 5);
  return out;
}

type Json = null | boolean | number | string | Json[] | JsonObject;
type JsonObject = { [k: string]: Json };

/** The description's fields (objects with a string name and a type), in document order. */
function fieldNodes(root: Json): JsonObject[] {
  const nodes: JsonObject[] = [];
  const walk = (v: Json) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if (typeof v.name === 'string' && 'type' in v) nodes.push(v);
      Object.values(v).forEach(walk);
    }
  };
  walk(root);
  return nodes;
}

/**
 * A seed's description parsed once, with its fields: a vmdesc-json mutation changes it in place
 * and puts it back (parsing 160 KB of JSON again for each one was most of a mutation's cost).
 */
const parsedDescriptions = new WeakMap<SeedStream, { root: Json; nodes: JsonObject[] }>();

function parsedDescription(s: SeedStream): { root: Json; nodes: JsonObject[] } {
  let p = parsedDescriptions.get(s);
  if (!p) parsedDescriptions.set(s, (p = parsedAfresh(s.vmdesc!.json)));
  return p;
}

function parsedAfresh(json: string): { root: Json; nodes: JsonObject[] } {
  const root = JSON.parse(json) as Json;
  return { root, nodes: fieldNodes(root) };
}

/** Puts back the own properties (values and order) each object had when `keep` first saw it. */
function restorer(): { keep: (n: JsonObject) => void; restore: () => void } {
  const saved = new Map<JsonObject, [string, Json][]>();
  return {
    keep: (n) => {
      if (!saved.has(n)) saved.set(n, Object.entries(n));
    },
    restore: () => {
      for (const [n, entries] of saved) {
        for (const k of Object.keys(n)) delete n[k];
        // defineProperty, not assignment: a "__proto__" key is an own property here too.
        for (const [k, value] of entries)
          Object.defineProperty(n, k, {
            value,
            writable: true,
            enumerable: true,
            configurable: true,
          });
      }
    },
  };
}

/** Changes one thing the description says (a type, a size, an array length, a nesting) of one of `nodes`. */
function mutateDescription(
  r: () => number,
  nodes: JsonObject[],
  keep: (n: JsonObject) => void,
): void {
  if (!nodes.length) return;
  const n = pick(r, nodes);
  keep(n);
  switch (int(r, 6)) {
    case 0:
      n.type = pick(r, [
        'buffer',
        'bool',
        'uint64',
        'int32',
        'struct',
        'unused_buffer',
        'nonsense',
        'timer',
      ]);
      break;
    case 1:
      n.size = pick(r, [0, -1, 2 ** 31, 2 ** 53, 1e300, 3, 4097, 1.5, 'x' as Json]);
      break;
    case 2:
      n.array_len = pick(r, [0, 1, 2 ** 31, 2 ** 20 + 1, -1, 1e300]);
      break;
    case 3: {
      // Deep nesting: the field becomes a struct of a struct of ... of itself.
      let inner: Json = { name: 'x', type: 'uint8', size: 1 };
      for (let i = pick(r, [10, 100, 1000]); i > 0; i--)
        inner = {
          name: 's',
          type: 'struct',
          size: 0,
          struct: { vmsd_name: 's', version: 1, fields: [inner] },
        };
      Object.assign(n, inner);
      break;
    }
    case 4:
      delete n[pick(r, ['name', 'type', 'size'])];
      break;
    default:
      n.name = pick(r, ['', 'a'.repeat(300), '\u0000', 'cpu', '__proto__']);
  }
}

/** A framing integer or a body word, each as likely as any other. */
function pickInt(r: () => number, s: SeedStream): { at: number; width: 1 | 4 | 8 } {
  const counts = s.words.map((w) => Math.max(0, Math.floor((w.to - w.from - 8) / 4) + 1));
  let k = int(r, s.ints.length + counts.reduce((a, b) => a + b, 0));
  if (k < s.ints.length) return s.ints[k];
  k -= s.ints.length;
  for (let i = 0; ; i++) {
    if (k < counts[i]) return { at: s.words[i].from + 4 * k, width: 4 };
    k -= counts[i];
  }
}

/** A vmdesc-json mutation: one to three changes to the description, framed again after EOF. */
function mutateDescriptionJson(s: SeedStream, r: () => number, fresh: boolean): Uint8Array {
  if (!s.vmdesc) return s.bytes.slice();
  const { root, nodes } = fresh ? parsedAfresh(s.vmdesc.json) : parsedDescription(s);
  const { keep, restore } = restorer();
  let text: string;
  try {
    // The first change is to the seed's fields; a later one to those of the changed tree.
    for (let i = 1 + int(r, 3), k = 0; i > 0; i--, k++)
      mutateDescription(r, k === 0 ? nodes : fieldNodes(root), keep);
    text = JSON.stringify(root);
  } catch (e) {
    // Deep nesting applied to itself again can outgrow JSON.stringify's own stack: such a
    // description is no input (QEMU never writes one); the deep-nesting shapes cover it.
    if (e instanceof RangeError) return s.bytes.slice();
    throw e;
  } finally {
    restore();
  }
  return reframeVmdesc(s, text);
}

/** `freshDescription`: parse the description anew for this input (the first way, kept to test the other). */
export function mutate(
  s: SeedStream,
  m: MutationName,
  seed: number,
  o: { freshDescription?: boolean } = {},
): Uint8Array {
  const r = rng(seed);
  if (m === 'vmdesc-json') return mutateDescriptionJson(s, r, o.freshDescription === true);
  const b = s.bytes.slice();
  switch (m) {
    case 'bit-flips': {
      for (let i = 1 + int(r, 4); i > 0; i--) {
        // Mostly where the decoder has most to check: device sections after the RAM.
        const lo = r() < 0.7 && s.sections.length ? pick(r, s.sections) : 0;
        const at = Math.min(b.length - 1, lo + int(r, r() < 0.7 ? 4096 : b.length));
        b[at] ^= 1 << int(r, 8);
      }
      return b;
    }
    case 'integer-field': {
      const f = pickInt(r, s);
      putInt(b, f.at, f.width, pick(r, EDGE[f.width]));
      return b;
    }
    case 'length-byte': {
      const f = pick(r, s.ints.filter((x) => x.width === 1).concat(s.ints.slice(0, 1)));
      b[f.at] = pick(r, [0, 1, 0xff, b[f.at] + 1, b[f.at] - 1]) & 0xff;
      return b;
    }
    case 'section-id': {
      const at = pick(r, s.sections) + 1;
      putInt(b, at, 4, pick(r, [0n, 1n, 2n, 0xffffffffn, BigInt(int(r, 64))]));
      return b;
    }
    case 'section-type': {
      const at = pick(r, s.sections);
      b[at] = pick(r, [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x7e, 0x09, 0xff]);
      return b;
    }
    case 'vmdesc-length': {
      if (!s.vmdesc) return b;
      const len = b.length - s.vmdesc.offset - 5;
      putInt(
        b,
        s.vmdesc.offset + 1,
        4,
        pick(r, [0n, 1n, BigInt(len - 1), BigInt(len + 1), 0xffffffffn, 0x00015706n]),
      );
      return b;
    }
    case 'splice': {
      // A block of one section's bytes copied over another's.
      const from = pick(r, s.sections);
      const to = pick(r, s.sections);
      const n = 1 + int(r, 256);
      b.set(s.bytes.subarray(from, Math.min(from + n, b.length - to + from)), to);
      return b;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Hostile shapes, after QEMU's incoming-migration CVEs of 2013-14 (lengths from the stream used
// unchecked for allocation, indexes and copies) and the campaign that found issue 12.

export const HOSTILE = [
  'capabilities-2^31',
  'machine-type-2^31',
  'ram-block-2^52',
  'ram-blocks-20000',
  'compressed-bomb',
  'packaged-huge',
  'packaged-nested',
  'vmdesc-2^31',
  'vmdesc-deep-json',
  'vmdesc-array-2^31',
  'vbuffer-length',
  'idstr-255',
  'many-sections',
  'ram-offset-outside',
  'xbzrle-garbage',
] as const;
export type HostileShape = (typeof HOSTILE)[number];

function builder(): { b: StreamBuilder; bytes: () => Uint8Array } {
  const sink = new MemorySink();
  return { b: new StreamBuilder(sink), bytes: () => sink.bytes() };
}

const HEAD = [0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3];

export function hostile(shape: HostileShape, seed: number): Uint8Array {
  const r = rng(seed);
  const zeros = (n: number) => new Uint8Array(n);
  const cat = (...parts: (Uint8Array | number[])[]) => {
    const n = parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const w = new ByteWriter(64);
  switch (shape) {
    case 'capabilities-2^31': {
      w.u8(SectionType.CONFIGURATION);
      w.u32(13);
      for (const c of 'pc-i440fx-7.2') w.u8(c.charCodeAt(0));
      w.u8(SectionType.SUBSECTION);
      w.countedString('configuration/capabilities');
      w.u32(1);
      w.u32(2 ** 31 + int(r, 1000));
      return cat(HEAD, w.finish(), zeros(pick(r, [1 << 20, 8 << 20])));
    }
    case 'machine-type-2^31':
      w.u8(SectionType.CONFIGURATION);
      w.u32(2 ** 31);
      return cat(HEAD, w.finish(), zeros(1 << 20));
    case 'ram-block-2^52':
    case 'ram-blocks-20000':
    case 'compressed-bomb':
    case 'ram-offset-outside':
    case 'xbzrle-garbage': {
      const { b, bytes } = builder();
      b.header().configuration({ machineType: 'pc-i440fx-7.2' });
      const blocks =
        shape === 'ram-blocks-20000'
          ? Array.from({ length: 20000 }, (_, i) => ({ name: `b${i}`, length: 4096n }))
          : [
              {
                name: 'pc.ram',
                length: shape === 'ram-block-2^52' ? (1n << 52n) + 4096n : 1n << 24n,
              },
            ];
      b.ramStart(2, blocks);
      const page = (i: number) => {
        const name = blocks[i % blocks.length].name;
        if (shape === 'compressed-bomb')
          return { block: name, addr: 0n, kind: 'compressed' as const, data: zeros(4 << 20) };
        if (shape === 'xbzrle-garbage') {
          const delta = new Uint8Array(1 + int(r, 64)).map(() => int(r, 256));
          return { block: name, addr: 0n, kind: 'xbzrle' as const, delta };
        }
        if (shape === 'ram-offset-outside')
          return {
            block: name,
            addr: (1n << 24n) + BigInt(int(r, 4) * 4096),
            kind: 'zero' as const,
          };
        return { block: name, addr: 0n, kind: 'zero' as const, fill: 1 };
      };
      b.ramPages(
        'end',
        2,
        Array.from({ length: Math.min(blocks.length, 100) }, (_, i) => page(i)),
      );
      b.eof().vmdesc();
      return bytes();
    }
    case 'packaged-huge':
    case 'packaged-nested': {
      const { b, bytes } = builder();
      b.header();
      if (shape === 'packaged-huge') {
        b.command(Command.PACKAGED, Uint8Array.of(0xff, 0xff, 0xff, 0xf0));
        return cat(bytes(), zeros(1 << 16));
      }
      // PACKAGED inside PACKAGED inside ...: each claims the rest.
      const depth = pick(r, [2, 50, 1000]);
      let inner: Uint8Array = Uint8Array.of(SectionType.EOF);
      for (let i = 0; i < depth; i++) {
        const ww = new ByteWriter(16);
        ww.u8(SectionType.COMMAND);
        ww.u16(Command.PACKAGED);
        ww.u16(4);
        ww.u32(inner.length);
        inner = cat(ww.finish(), inner, [SectionType.EOF]);
      }
      return cat(bytes(), inner);
    }
    case 'vmdesc-2^31':
      return cat(
        HEAD,
        [SectionType.EOF, SectionType.VMDESCRIPTION, 0x80, 0, 0, 0, 0x7b],
        zeros(1 << 16),
      );
    case 'vmdesc-deep-json': {
      const depth = pick(r, [1000, 100000]);
      const json = `{"page_size":4096,"devices":[${'['.repeat(depth)}${']'.repeat(depth)}]}`;
      const t = Buffer.from(json);
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, t.length);
      return cat(HEAD, [SectionType.EOF, SectionType.VMDESCRIPTION], len, t);
    }
    case 'vmdesc-array-2^31':
    case 'vbuffer-length': {
      // A device whose description says an array of 2^31 elements, or a huge buffer size.
      const { b, bytes } = builder();
      b.header().configuration({ machineType: 'pc-i440fx-7.2' });
      b.device({
        sectionId: 0,
        idstr: 'dev',
        version: 1,
        fields: [{ name: 'n', type: 'uint32', size: 4, value: 0xffffffffn }],
      });
      b.eof();
      const field =
        shape === 'vmdesc-array-2^31'
          ? { name: 'a', type: 'uint32', size: 4, array_len: 2 ** 31 }
          : { name: 'buf', type: 'buffer', size: pick(r, [2 ** 31, 2 ** 40, 64 << 20]) };
      const json = JSON.stringify({
        page_size: 4096,
        devices: [{ name: 'dev', instance_id: 0, vmsd_name: 'dev', version: 1, fields: [field] }],
      });
      const t = Buffer.from(json);
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, t.length);
      return cat(bytes(), [SectionType.VMDESCRIPTION], len, t);
    }
    case 'idstr-255': {
      const ww = new ByteWriter(300);
      ww.u8(SectionType.FULL);
      ww.u32(0);
      ww.u8(255);
      for (let i = 0; i < 255; i++) ww.u8(0x41 + (i % 26));
      ww.u32(0);
      ww.u32(1);
      return cat(HEAD, ww.finish(), zeros(int(r, 64)));
    }
    case 'many-sections': {
      // 100,000 empty FULL sections with footers: bounded time and memory per section.
      const ww = new ByteWriter(1 << 20);
      for (let i = 0; i < 100000; i++) {
        ww.u8(SectionType.FULL);
        ww.u32(i);
        ww.u8(1);
        ww.u8(0x78);
        ww.u32(0);
        ww.u32(1);
        ww.u8(SectionType.FOOTER);
        ww.u32(i);
      }
      return cat(HEAD, ww.finish(), [SectionType.EOF]);
    }
  }
  void RamFlag;
}

export function inputBytes(d: Descriptor, seeds: Map<string, SeedStream>): Uint8Array {
  if (d.kind === 'hostile') return hostile(d.shape, d.seed);
  const s = seeds.get(d.stream);
  if (!s) throw new Error(`no seed stream ${d.stream}`);
  if (d.kind === 'truncate') return s.bytes.subarray(0, d.at);
  return mutate(s, d.mutation, d.seed);
}

export function describeInput(d: Descriptor): string {
  if (d.kind === 'truncate') return `${d.stream} cut at ${d.at}`;
  if (d.kind === 'mutate') return `${d.stream} ${d.mutation} seed ${d.seed}`;
  return `hostile ${d.shape} seed ${d.seed}`;
}
