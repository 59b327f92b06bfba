/**
 * Compiled save and load: each description is turned once into a list of closures, one a field,
 * specialised to its shape and kind (a plain integer field is a typed read or write, a fixed
 * array one loop), and cached on the description. A plan keeps no path and builds no error:
 * when anything goes wrong it gives up (throws NOT_FAST), and save.ts/load.ts run the
 * interpreter (Saver/Loader) again from the same position, which raises the typed error with
 * its offset and path (one case skips the second read: PlanUnknownSubsection). So the
 * interpreter stays the one definition of the rules, and the plan must only ever agree with it
 * (tests/engine-plan.test.ts checks the bytes, the states and the errors).
 */
import { latin1, type ByteReader } from '../bytes/reader';
import type { ByteWriter } from '../bytes/writer';
import { holdsState, type AnyField } from '../dsl/field';
import type { AnyVMSD, Ctx, KindIO, State } from '../dsl/kind';
import { fastReads, fastWrites, type FastCodec } from '../dsl/fast-codec';
import type { AnyVMSDesc } from '../dsl/vmsd';
import { countValue } from './fields';
import {
  generateLoad,
  generateSave,
  type FieldsLoader,
  type FieldsSaver,
  type LoadScratch,
  type SaveScratch,
} from './plan-code';
import { freshStateOf } from '../dsl/fresh-state';
import { cloneValue, fillMissing, initialValue, withInitialValues } from './state';

/** Thrown by a plan to hand the call back to the interpreter; never escapes save.ts/load.ts. */
export const NOT_FAST: Error = Object.freeze(new Error('not on the compiled path'));
const notFast = (): never => {
  throw NOT_FAST;
};

/**
 * Thrown by a plan at a subsection its top description does not know (QEMU's -ENOENT), where the
 * reader stands at its marker: load.ts raises the interpreter's own error for it there. A stream
 * from a newer release ends this way in most refused migrations, and reading the whole body
 * again in the interpreter just to reach that subsection was 14% of the compat matrix's CPU
 * time (--cpu-prof). Anywhere deeper, or inside another load's plan, the plan still gives up.
 */
export class PlanUnknownSubsection {
  constructor(
    readonly name: string,
    /** The reader's position at the subsection's marker. */
    readonly pos: number,
  ) {}
}

type SaveOp = (w: ByteWriter, s: State, io: PlanSaver) => void;
type LoadOp = (r: ByteReader, s: State, version: number, io: PlanLoader) => void;

interface Plan {
  /** All fields of the description, as one generated function each way (plan-code.ts). */
  readonly save: FieldsSaver<PlanSaver>;
  readonly load: FieldsLoader<PlanLoader>;
  readonly subs: readonly AnyVMSDesc[];
  /** The subsections' names as wire bytes, and this description's (their common prefix). */
  readonly subNames: readonly Uint8Array[];
  /** Each subsection's header as saved: marker, counted name, version (be32). */
  readonly subHeaders: readonly Uint8Array[];
  readonly nameBytes: Uint8Array;
  /** False when a name is not latin-1 (the wire's bytes would not match the string): interpreter only. */
  readonly usable: boolean;
  /** The subsections' plans, made on first use. */
  subPlans: readonly Plan[] | undefined;
  // The description's hooks and version bounds, read here rather than from the description: a
  // description's own keys depend on which options it was given, so a loop over subsections
  // reading them off the descriptions saw dozens of shapes (megamorphic loads); every plan has one.
  readonly preSave: AnyVMSDesc['pre_save'];
  readonly postSave: AnyVMSDesc['post_save'];
  readonly preLoad: AnyVMSDesc['pre_load'];
  readonly postLoad: AnyVMSDesc['post_load'];
  /** Each subsection's needed(), undefined where it has none (always sent). */
  readonly needed: readonly AnyVMSDesc['needed'][];
  readonly versionId: number;
  readonly minimumVersionId: number;
}

const plans = new WeakMap<AnyVMSDesc, Plan>();
function planOf(d: AnyVMSDesc): Plan {
  let p = plans.get(d);
  if (!p) plans.set(d, (p = compile(d)));
  return p;
}

function subPlansOf(p: Plan): readonly Plan[] {
  return (p.subPlans ??= p.subs.map(planOf));
}

function latin1Bytes(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return undefined;
    out[i] = c;
  }
  return out;
}

function subHeader(sub: AnyVMSDesc, name: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + name.length + 4);
  out[0] = 0x05; // QEMU_VM_SUBSECTION
  out[1] = name.length;
  out.set(name, 2);
  new DataView(out.buffer).setUint32(2 + name.length, sub.version_id);
  return out;
}

function compile(d: AnyVMSDesc): Plan {
  const subs = d.subsections as readonly AnyVMSDesc[];
  const nameBytes = latin1Bytes(d.name);
  const subNames = subs.map((s) => latin1Bytes(s.name));
  const usable =
    nameBytes !== undefined && subNames.every((b) => b !== undefined && b.length <= 0xff);
  return {
    save: generateSave<PlanSaver>(d, (f) => saveOp(f, d.version_id), notFast),
    load: generateLoad<PlanLoader>(d, loadOp, notFast),
    subs,
    subNames: subNames as Uint8Array[],
    subHeaders: usable ? subs.map((s, i) => subHeader(s, subNames[i]!)) : [],
    nameBytes: nameBytes ?? new Uint8Array(0),
    usable,
    subPlans: undefined,
    preSave: d.pre_save,
    postSave: d.post_save,
    preLoad: d.pre_load,
    postLoad: d.post_load,
    needed: subs.map((sub) => sub.needed),
    versionId: d.version_id,
    minimumVersionId: d.minimum_version_id,
  };
}

// ---------------------------------------------------------------------------------- saving

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Writes one checked value of a plain kind; throws NOT_FAST where the kind's check would fail. */
function writer(codec: FastCodec): (w: ByteWriter, v: unknown) => void {
  switch (codec.op) {
    case 'u8':
      return (w, v) => (((v as number) & 0xff) === v ? w.u8(v as number) : notFast());
    case 'i8':
      return (w, v) => (((v as number) << 24) >> 24 === v ? w.u8((v as number) & 0xff) : notFast());
    case 'u16':
      return (w, v) => (((v as number) & 0xffff) === v ? w.u16(v as number) : notFast());
    case 'i16':
      return (w, v) => (((v as number) << 16) >> 16 === v ? w.i16(v as number) : notFast());
    case 'u32':
      return (w, v) => ((v as number) >>> 0 === v ? w.u32(v as number) : notFast());
    case 'i32':
      return (w, v) => (((v as number) | 0) === v ? w.i32(v as number) : notFast());
    case 'u64':
      return (w, v) => (typeof v === 'bigint' && v >= 0n && v <= U64_MAX ? w.u64(v) : notFast());
    case 'i64':
      return (w, v) =>
        typeof v === 'bigint' && v >= I64_MIN && v <= I64_MAX ? w.i64(v) : notFast();
    case 'bool':
      return (w, v) => (typeof v === 'boolean' ? w.u8(v ? 1 : 0) : notFast());
    case 'bytes': {
      const size = codec.size;
      return (w, v) => (v instanceof Uint8Array && v.length === size ? w.bytes(v) : notFast());
    }
  }
}

/** A kind's own check and write, for kinds without a fast codec (structs, custom kinds). */
function kindWriter(f: AnyField): (w: ByteWriter, v: unknown, io: PlanSaver) => void {
  const fast = fastWrites.get(f.kind.write);
  if (fast && fast.check === f.kind.check) return writer(fast.codec);
  const kind = f.kind;
  return (w, v, io) => {
    if (kind.check(v) !== undefined) notFast();
    kind.write(w, v, io);
  };
}

function saveCount(f: AnyField, s: State): number {
  const c = f.count;
  if (c.from === 'fixed') return c.n;
  if (c.from === 'one') return 1;
  const n = countValue(s[c.field]);
  return n === undefined || n < 0 || n > c.max ? notFast() : n;
}

function saveOp(f: AnyField, version: number): SaveOp {
  const key = f.key;
  switch (f.shape) {
    case 'validate': {
      const test = f.validate!.test;
      return (_w, s, io) => void (test(s, version, io.ctx) || notFast());
    }
    case 'unused': {
      const size = f.kind.wireSize!;
      return (w) => w.zeros(size);
    }
    case 'value': {
      const write = kindWriter(f);
      return (w, s, io) => write(w, s[key], io);
    }
    case 'vbuffer':
      return (w, s) => {
        const n = saveCount(f, s);
        const v = s[key];
        if (!(v instanceof Uint8Array) || v.length !== n) notFast();
        w.bytes(v as Uint8Array);
      };
    case 'array': {
      const write = kindWriter(f);
      return (w, s, io) => {
        const n = saveCount(f, s);
        const v = s[key];
        if (!Array.isArray(v) || v.length !== n) notFast();
        const a = v as unknown[];
        for (let i = 0; i < n; i++) write(w, a[i], io);
      };
    }
  }
}

/** A scratch buffer kept between saves (see SaveScratch), as save.ts keeps its writer. */
let spare: { buf: Uint8Array; dv: DataView } | undefined;
const SCRATCH_BYTES = 64 * 1024;

/** What struct and custom kinds see while a plan saves: nested descriptions run on their plans. */
class PlanSaver implements KindIO, SaveScratch {
  buf: Uint8Array;
  dv: DataView;
  p = 0;

  constructor(readonly ctx: Ctx) {
    const s = spare ?? { buf: new Uint8Array(SCRATCH_BYTES), dv: undefined };
    spare = undefined;
    this.buf = s.buf;
    this.dv = s.dv ?? new DataView(s.buf.buffer);
  }
  /** Gives the scratch buffer back for the next save (unless it grew past 1 MiB). */
  release(): void {
    if (this.buf.length <= 1 << 20) spare = { buf: this.buf, dv: this.dv };
  }
  room(w: ByteWriter, n: number): void {
    this.flush(w);
    if (n > this.buf.length) {
      this.buf = new Uint8Array(Math.max(n, this.buf.length * 2));
      this.dv = new DataView(this.buf.buffer);
    }
  }
  flush(w: ByteWriter): void {
    if (this.p > 0) w.bytes(this.buf.subarray(0, this.p));
    this.p = 0;
  }
  fail(): never {
    throw NOT_FAST;
  }
  where(): string {
    return '';
  }
  loadNested(): State {
    throw NOT_FAST;
  }
  /** A kind's nested save writes to the ByteWriter: nothing stays in the scratch buffer after it. */
  saveNested(w: ByteWriter, desc: AnyVMSD, state: State): void {
    this.body(planOf(desc as AnyVMSDesc), state, w);
    this.flush(w);
  }

  body(p: Plan, given: State, w: ByteWriter): void {
    if (!p.usable) notFast();
    const preSave = p.preSave;
    const state = (preSave && (preSave(given, this.ctx) as State | undefined)) || given;
    p.save(w, state, this);
    const count = p.subs.length;
    if (count > 0) {
      const subPlans = subPlansOf(p);
      const needed = p.needed;
      for (let i = 0; i < count; i++) {
        const test = needed[i];
        if (test && !test(state, this.ctx)) continue;
        const header = p.subHeaders[i];
        if (this.p + header.length > this.buf.length) this.room(w, header.length);
        this.buf.set(header, this.p);
        this.p += header.length;
        this.body(subPlans[i], state, w);
      }
    }
    if (p.postSave) p.postSave(state, this.ctx);
  }
}

/** Writes a state with its description's plan; throws NOT_FAST where the interpreter must take over. */
export function planSave(w: ByteWriter, desc: AnyVMSDesc, state: State, ctx: Ctx): void {
  const io = new PlanSaver(ctx);
  io.body(planOf(desc), state, w);
  io.flush(w);
  io.release();
}

// --------------------------------------------------------------------------------- loading

function reader(codec: FastCodec): (r: ByteReader) => unknown {
  switch (codec.op) {
    case 'u8':
      return (r) => r.u8();
    case 'i8':
      return (r) => r.i8();
    case 'u16':
      return (r) => r.u16();
    case 'i16':
      return (r) => r.i16();
    case 'u32':
      return (r) => r.u32();
    case 'i32':
      return (r) => r.i32();
    case 'u64':
      return (r) => r.u64();
    case 'i64':
      return (r) => r.i64();
    case 'bool':
      return (r) => r.u8() !== 0;
    case 'bytes': {
      const size = codec.size;
      return (r) => r.bytesCopy(size);
    }
  }
}

/** The element count, with the interpreter's bounds (declared maximum, bytes left) checked before allocating. */
function loadCount(f: AnyField, s: State, r: ByteReader, minElementSize: number): number {
  const c = f.count;
  if (c.from === 'one') return 1;
  const n = c.from === 'fixed' ? c.n : countValue(s[c.field]);
  if (n === undefined || n < 0 || (c.from === 'field' && n > c.max)) notFast();
  if (n! * minElementSize > r.remaining) notFast();
  return n!;
}

function loadOp(f: AnyField): LoadOp {
  const key = f.key;
  const kind = f.kind;
  switch (f.shape) {
    case 'validate': {
      const test = f.validate!.test;
      return (_r, s, version, io) => void (test(s, version, io.ctx) || notFast());
    }
    case 'unused': {
      const size = kind.wireSize!;
      return (r) => r.skip(size);
    }
    case 'value': {
      const codec = fastReads.get(kind.read);
      if (codec) {
        const read = reader(codec);
        return (r, s) => void (s[key] = read(r));
      }
      return (r, s, _v, io) => void (s[key] = kind.read(r, io, s[key]));
    }
    case 'vbuffer':
      return (r, s) => {
        const n = loadCount(f, s, r, 1);
        s[key] = r.bytesCopy(n);
      };
    case 'array': {
      const codec = fastReads.get(kind.read);
      const min = kind.minWireSize;
      if (codec) {
        const read = reader(codec);
        return (r, s) => {
          const n = loadCount(f, s, r, min);
          const out = new Array<unknown>(n);
          for (let i = 0; i < n; i++) out[i] = read(r);
          s[key] = out;
        };
      }
      return (r, s, _v, io) => {
        const n = loadCount(f, s, r, min);
        const current = Array.isArray(s[key]) ? (s[key] as unknown[]) : [];
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++)
          out[i] = kind.read(r, io, i < current.length ? current[i] : undefined);
        s[key] = out;
      };
    }
  }
}

/** What struct and custom kinds see while a plan loads; keeps what the stream lacked, as the Loader does. */
class PlanLoader implements KindIO, LoadScratch {
  missed: Array<AnyField | AnyVMSDesc> = [];
  root: AnyVMSDesc | undefined;
  readonly dv: DataView;
  /** How many bodies are being loaded (1: the top description's own). */
  private depth = 0;

  constructor(
    private readonly r: ByteReader,
    readonly ctx: Ctx,
    private readonly endIsFinal: boolean,
  ) {
    const b = r.bytes;
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  fail(): never {
    throw NOT_FAST;
  }
  where(): string {
    return '';
  }
  saveNested(): void {
    throw NOT_FAST;
  }
  loadNested(_r: ByteReader, desc: AnyVMSD, into: State | undefined): State {
    const state = into && typeof into === 'object' ? into : {};
    const outer = this.missed;
    const outerRoot = this.root;
    this.missed = [];
    this.root = desc as AnyVMSDesc;
    this.body(planOf(desc as AnyVMSDesc), state, desc.version_id);
    this.fillMissed(state);
    this.missed = outer;
    this.root = outerRoot;
    return state;
  }

  fillMissed(state: State): State {
    for (const m of this.missed) {
      if (!('shape' in m)) fillMissing(m, state);
      else if (holdsState(m.shape) && !(m.key in state)) state[m.key] = initialValue(m);
    }
    return state;
  }

  body(p: Plan, state: State, version: number): void {
    if (!p.usable || version > p.versionId || version < p.minimumVersionId) notFast();
    if (p.preLoad) p.preLoad(this.root ? withInitialValues(this.root, state) : state, this.ctx);
    const r = this.r;
    this.depth++;
    p.load(r, state, version, this);
    if (p.subs.length > 0) this.subsections(p, state);
    this.depth--;
    if (p.postLoad) p.postLoad(state, version, this.ctx);
  }

  /** The Loader's subsection loop, on the wire bytes: no name string is made per subsection. */
  private subsections(p: Plan, state: State): void {
    const r = this.r;
    const b = r.bytes;
    const subs = p.subs;
    const prefix = p.nameBytes;
    let loaded: boolean[] | undefined;
    let count = 0;
    let hint = 0;
    for (;;) {
      const at = r.pos;
      if (at >= b.length || b[at] !== 0x05) break;
      if (at + 1 >= b.length) {
        if (this.endIsFinal) break;
        notFast();
      }
      const n = b[at + 1];
      if (n < prefix.length + 1) break;
      if (at + 2 + n > b.length) {
        if (this.endIsFinal) break;
        notFast();
      }
      let ours = true;
      for (let k = 0; k < prefix.length; k++)
        if (b[at + 2 + k] !== prefix[k]) {
          ours = false;
          break;
        }
      if (!ours) break;
      const found = subIndex(p.subNames, b, at + 2, n, hint);
      if (found < 0) {
        if (this.depth === 1) {
          throw new PlanUnknownSubsection(latin1(b.subarray(at + 2, at + 2 + n)), at);
        }
        notFast();
      }
      r.pos = at + 2 + n;
      const version = r.u32() & 0xff; // QEMU keeps the subsection version in a uint8_t
      this.body(subPlansOf(p)[found], state, version);
      loaded ??= new Array<boolean>(subs.length).fill(false);
      if (!loaded[found]) count++;
      loaded[found] = true;
      hint = found + 1 < subs.length ? found + 1 : 0;
    }
    if (count < subs.length)
      for (let i = 0; i < subs.length; i++) if (!loaded?.[i]) this.missed.push(subs[i]);
  }
}

/**
 * The subsection whose name is the n bytes at b[at]: looked for from `from` on (the one after
 * the last found, since a stream sends them in the description's order), comparing from the
 * name's end, where names sharing the parent's prefix differ.
 */
function subIndex(
  names: readonly Uint8Array[],
  b: Uint8Array,
  at: number,
  n: number,
  from: number,
): number {
  const count = names.length;
  next: for (let j = 0; j < count; j++) {
    const i = from + j < count ? from + j : from + j - count;
    const name = names[i];
    if (name.length !== n) continue;
    for (let k = n - 1; k >= 0; k--) if (b[at + k] !== name[k]) continue next;
    return i;
  }
  return -1;
}

/**
 * Loads one body with its description's plan; throws NOT_FAST where the interpreter must take
 * over, and PlanUnknownSubsection where it need only raise that error.
 */
export function planLoad(
  r: ByteReader,
  desc: AnyVMSDesc,
  version: number,
  ctx: Ctx,
  into: State | undefined,
  endIsFinal: boolean,
): State {
  const io = new PlanLoader(r, ctx, endIsFinal);
  io.root = desc;
  if (into) {
    const state = cloneValue(into);
    io.body(planOf(desc), state, version);
    return io.fillMissed(state);
  }
  // Into nothing: every key is there from the start (a fresh state), so what the load left out
  // only needs its object initial values made.
  const fresh = freshStateOf(desc);
  const state = fresh.make();
  io.body(planOf(desc), state, version);
  fresh.fill(state);
  return state;
}
