import { ByteReader, latin1 } from '../bytes/reader';
import { holdsState, unreachableShape, type AnyField } from '../dsl/field';
import type { Ctx, Kind, KindIO, State } from '../dsl/kind';
import * as kinds from '../dsl/kinds';
import type { AnyVMSDesc, StateOf } from '../dsl/vmsd';
import {
  ArrayLengthError,
  HookError,
  MalformedError,
  TrailingBytesError,
  TruncatedError,
  UnknownSubsectionError,
  ValidationError,
  VersionTooNewError,
  VersionTooOldError,
  VMStateError,
  readingAt,
} from '../errors';
import { countValue, fieldExists } from './fields';
import { activeReplay, type LoadReplay } from './load-replay';
import { NOT_FAST, PlanUnknownSubsection, planLoad } from './plan';
import { freshStateOf } from '../dsl/fresh-state';
import { SUBSECTION_MARKER } from './save';
import { cloneValue, fillMissing, fillMissingField, withInitialValues } from './state';

export interface LoadOptions {
  readonly ctx?: Ctx;
  /** The receiver's state before the load: fields the stream lacks keep these values (copied, never changed). */
  readonly into?: State;
  /** Absolute offset of bytes[0] in the stream, for error offsets. */
  readonly base?: number;
  /** Path prefix for errors (the stream layer passes `cpu#0`). */
  readonly path?: string;
  /** Told of the bytes every VMSTATE_UNUSED field skips (what a receiver drops unread). */
  readonly onUnused?: (bytes: Uint8Array, path: string) => void;
}

/**
 * Reads a state as QEMU's vmstate_load_state does, from bytes that hold exactly one body
 * (fields and subsections); `version` is the stream's version of the description.
 */
export function load<D extends AnyVMSDesc>(
  desc: D,
  bytes: Uint8Array,
  version: number = desc.version_id,
  opts: LoadOptions = {},
): StateOf<D> {
  const r = new ByteReader(bytes, opts.base ?? 0);
  // The input is exactly one body: nothing follows it, so a peek past its end finds no subsection.
  const state = loadFrom(r, desc, version, opts, true);
  if (!r.atEnd) {
    const path = opts.path ?? desc.name;
    // A subsection marker with too few bytes after it for its header is a subsection cut short.
    const n = r.peek(1);
    const header = n === undefined ? 2 : 2 + n + 4;
    if (r.peek() === SUBSECTION_MARKER && r.remaining < header)
      throw new TruncatedError(header, r.remaining, r.offset, path);
    throw new TrailingBytesError(r.remaining, r.offset, path);
  }
  return state as StateOf<D>;
}

/**
 * Reads one body from a reader the stream layer owns, leaving the reader after it. `endIsFinal`
 * may come apart from the options: load() passes its caller's own (a copy of them with one more
 * key was 2% of a cpu save+load, perf).
 */
export function loadFrom(
  r: ByteReader,
  desc: AnyVMSDesc,
  version: number,
  opts: LoadOptions & { endIsFinal?: boolean } = {},
  endIsFinal = opts.endIsFinal ?? false,
): State {
  // Without a receiver state, fields are read into a fresh state of the description (every key
  // there, primitives at their initial values) and the object values the stream lacked are made
  // afterwards.
  const ctx = opts.ctx ?? {};
  // A replay (load-replay.ts) records and takes up the interpreter's field reads: no plan then.
  if (!opts.onUnused && !activeReplay) {
    // The compiled plan first (plan.ts); when it gives up, the interpreter from the same
    // position raises the typed error with its offset and path (at an unknown subsection of
    // desc's own, from the marker the plan stopped at).
    const start = r.pos;
    plansRunning++;
    try {
      return planLoad(r, desc, version, ctx, opts.into, endIsFinal);
    } catch (e) {
      r.pos = start;
      // Called by a kind inside another load's plan (virtio's parts): that plan gives up on any
      // throw and its interpreter loads this part again, so interpreting it here is wasted.
      if (plansRunning > 1) throw e instanceof PlanUnknownSubsection ? NOT_FAST : e;
      if (e instanceof PlanUnknownSubsection) {
        r.pos = e.pos;
        new Loader(r, ctx, opts.path, endIsFinal).refuseSubsection(desc, e.name);
      }
    } finally {
      plansRunning--;
    }
  }
  return loadInterpreted(r, desc, version, opts, endIsFinal);
}

/** How many loadFrom plans are running (a kind's read may call loadFrom inside one). */
let plansRunning = 0;

/** loadFrom without the compiled plan: the rules as written, with paths (tests compare the two). */
export function loadInterpreted(
  r: ByteReader,
  desc: AnyVMSDesc,
  version: number,
  opts: LoadOptions & { endIsFinal?: boolean } = {},
  endIsFinal = opts.endIsFinal ?? false,
): State {
  const loader = new Loader(r, opts.ctx ?? {}, opts.path, endIsFinal, opts.onUnused);
  if (opts.into) {
    const state = cloneValue(opts.into);
    loader.top(desc, state, version);
    return loader.fillMissed(state);
  }
  // Into nothing: a fresh state with every key (dsl/fresh-state.ts), as the plan loads into.
  const fresh = freshStateOf(desc);
  const state = fresh.make();
  loader.top(desc, state, version);
  fresh.fill(state);
  return state;
}

class Loader implements KindIO {
  /**
   * What the stream lacked of the description being loaded: fields its version or test left out
   * and subsections it did not send. Only their keys get initial values afterwards (a cpu state
   * has hundreds of keys; a load misses a few subsections).
   */
  private missed: Array<AnyField | AnyVMSDesc> = [];
  /** The description whose state object is being loaded (a struct field's nested one inside it). */
  private root: AnyVMSDesc | undefined;
  private readonly stack: string[] = [];
  /** The element index at each level of `stack` that is inside an array (-1 or absent: none), made into text only for errors. */
  private readonly indexAt: number[] = [];

  constructor(
    private readonly r: ByteReader,
    readonly ctx: Ctx,
    prefix: string | undefined,
    /** True when the input is exactly the body: peeking past its end then means "no subsection". */
    private readonly endIsFinal: boolean,
    private readonly onUnused?: (bytes: Uint8Array, path: string) => void,
  ) {
    if (prefix) this.stack.push(prefix);
  }

  private path(): string {
    return this.stack
      .map((s, i) => ((this.indexAt[i] ?? -1) >= 0 ? `${s}[${this.indexAt[i]}]` : s))
      .join(' > ');
  }

  fail(make: (offset: number, path: string) => Error): never {
    throw make(this.r.offset, this.path());
  }

  where(): string {
    return this.path();
  }

  /**
   * The error top() raises at a subsection of desc's own that desc does not know, the reader at
   * its marker: for a plan that read the body up to there (PlanUnknownSubsection).
   */
  refuseSubsection(desc: AnyVMSDesc, name: string): never {
    this.stack.push(desc.name);
    this.unknownSubsection(desc, name);
  }

  /** QEMU's vmstate_subsection_load failing with -ENOENT, at the subsection's marker. */
  private unknownSubsection(d: AnyVMSDesc, name: string): never {
    const known = (d.subsections as readonly AnyVMSDesc[]).map((s) => s.name);
    this.fail((o, p) => new UnknownSubsectionError(name, known, o, p));
  }

  top(desc: AnyVMSDesc, state: State, version: number): void {
    this.stack.push(desc.name);
    this.root = desc;
    // Levels push their names and pop them only on success, so when a read fails the stack
    // still names the field being read: errors the reader raised get that path here.
    readingAt(
      () => this.path(),
      () => this.vmsd(desc, state, version, this.stack.length - 1),
    );
  }

  /** Gives what the stream lacked its initial values, where the state has none (see `missed`). */
  fillMissed(state: State): State {
    for (const m of this.missed) {
      if (!('shape' in m)) fillMissing(m, state);
      else if (holdsState(m.shape)) fillMissingField(m, state);
    }
    return state;
  }

  saveNested(): void {
    throw new Error('saveNested called while loading');
  }

  /** Struct fields: the nested description runs at its own version, in the receiver's value if it has one. */
  loadNested(_r: ByteReader, desc: AnyVMSDesc, into: State | undefined, segment: string): State {
    const state = into && typeof into === 'object' ? into : {};
    const outer = this.missed;
    const outerRoot = this.root;
    this.missed = [];
    this.root = desc;
    this.stack.push(segment);
    this.vmsd(desc, state, desc.version_id, this.stack.length - 1);
    this.stack.pop();
    this.fillMissed(state);
    this.missed = outer;
    this.root = outerRoot;
    return state;
  }

  private hook(name: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof VMStateError) throw e;
      this.fail((o, p) => new HookError(name, e instanceof Error ? e.message : String(e), o, p));
    }
  }

  private vmsd(d: AnyVMSDesc, state: State, version: number, at: number): void {
    const start = this.r.offset;
    if (version > d.version_id)
      this.fail((_, p) => new VersionTooNewError(d.name, version, d.version_id, start, p));
    if (version < d.minimum_version_id)
      this.fail((_, p) => new VersionTooOldError(d.name, version, d.minimum_version_id, start, p));
    if (d.pre_load) {
      // The hook sees the state as QEMU's receiver has it: what was loaded so far, initial values elsewhere.
      const seen = this.root ? withInitialValues(this.root, state) : state;
      this.hook(`${d.name}: pre_load`, () => d.pre_load!(seen, this.ctx));
    }
    for (const f of d.fields) {
      if (!fieldExists(f, state, version, this.ctx)) {
        this.missed.push(f);
        continue;
      }
      this.stack.push(f.name);
      const replay = activeReplay;
      if (replay) this.replayField(replay, f, state, version);
      else this.field(f, state, version);
      this.stack.pop();
    }
    const subs = d.subsections as readonly AnyVMSDesc[];
    if (subs.length > 0) {
      const loaded: AnyVMSDesc[] = [];
      this.subsections(d, state, at, loaded);
      if (loaded.length < subs.length)
        for (const sub of subs) if (!loaded.includes(sub)) this.missed.push(sub);
    }
    if (d.post_load)
      this.hook(`${d.name}: post_load`, () => d.post_load!(state, version, this.ctx));
  }

  /** A field read, or taken from the replay's record (see load-replay.ts). */
  private replayField(replay: LoadReplay, f: AnyField, state: State, version: number): void {
    const r = this.r;
    const at = r.offset;
    if (replay.mode === 'replay') {
      const rec = replay.take(at, f);
      if (rec) {
        state[f.key] = rec.value;
        r.pos += rec.end - at;
        return;
      }
      this.field(f, state, version);
    } else {
      this.field(f, state, version);
      if (f.shape !== 'validate' && f.shape !== 'unused')
        replay.keep(at, f, state[f.key], r.offset);
    }
  }

  private field(f: AnyField, state: State, version: number): void {
    const r = this.r;
    switch (f.shape) {
      case 'validate': {
        const v = f.validate!;
        if (!v.test(state, version, this.ctx))
          this.fail((o, p) => new ValidationError(f.name, v.message, o, p));
        return;
      }
      case 'unused':
        if (this.onUnused) this.onUnused(r.bytesView(f.kind.wireSize!), this.path());
        else r.skip(f.kind.wireSize!);
        return;
      case 'value':
        state[f.key] = f.kind.read(r, this, state[f.key]);
        return;
      case 'vbuffer': {
        const n = this.count(f, state, 1);
        state[f.key] = r.bytesCopy(n);
        return;
      }
      case 'array': {
        const n = this.count(f, state, f.kind.minWireSize);
        const current = Array.isArray(state[f.key]) ? (state[f.key] as unknown[]) : [];
        const out = new Array<unknown>(n);
        const top = this.stack.length - 1;
        const flat = this.onUnused ? null : flatReader(f.kind);
        // A replay (load-replay.ts) takes up the elements that ended well before the input does.
        const replay = activeReplay;
        const at = r.offset;
        let i = replay?.mode === 'replay' ? replay.takeElements(at, f, out) : 0;
        if (i > 0) r.pos += replay!.elementsEnd - at;
        const ends = replay?.mode === 'record' ? new Array<number>(n) : undefined;
        for (; i < n; i++) {
          this.indexAt[top] = i;
          const cur = i < current.length ? current[i] : undefined;
          if (flat && cur === undefined) {
            // The same reads as loadNested's, without its bookkeeping; anything they throw is
            // thrown again by the element read the long way, from its start, with its path.
            const start = r.pos;
            try {
              out[i] = flat(r);
              if (ends) ends[i] = r.offset;
              continue;
            } catch {
              r.pos = start;
            }
          }
          out[i] = f.kind.read(r, this, cur);
          if (ends) ends[i] = r.offset;
        }
        if (ends) replay!.keepElements(at, f, out, ends);
        this.indexAt[top] = -1;
        state[f.key] = out;
        return;
      }
      default:
        return unreachableShape(f.shape);
    }
  }

  /** The element count, checked against the declared maximum and the bytes left before anything is allocated. */
  private count(f: AnyField, state: State, minElementSize: number): number {
    const c = f.count;
    if (c.from === 'one') return 1;
    if (c.from === 'fixed') {
      // A cut inside a long array fails here, before its elements are read (and read again as
      // the stream window grows).
      if (c.n * minElementSize > this.r.remaining)
        this.fail((o, p) => new TruncatedError(c.n * minElementSize, this.r.remaining, o, p));
      return c.n;
    }
    const raw = state[c.field];
    const n = countValue(raw);
    if (n === undefined)
      this.fail(
        (o, p) =>
          new MalformedError(`length field '${c.field}' holds ${String(raw)}, not a count`, o, p),
      );
    if (n < 0 || n > c.max) this.fail((o, p) => new ArrayLengthError(n, c.max, o, p));
    if (n * minElementSize > this.r.remaining)
      this.fail((o, p) => new TruncatedError(n * minElementSize, this.r.remaining, o, p));
    return n;
  }

  /**
   * QEMU's vmstate_subsection_load: while the next byte opens a subsection whose name starts with
   * this description's name, it must be one of ours (else the load fails); a name without our
   * prefix belongs to an enclosing level and ends this loop without consuming anything.
   */
  private subsections(d: AnyVMSDesc, state: State, at: number, loaded: AnyVMSDesc[]): void {
    const r = this.r;
    const subs = d.subsections as readonly AnyVMSDesc[];
    while (r.peek() === SUBSECTION_MARKER) {
      // In a stream, as in QEMU, a peek that runs out of input is an error: a footer or another
      // section always follows a body, so running out here means the input was cut.
      const n = r.peek(1);
      if (n === undefined) {
        if (this.endIsFinal) return;
        throw new TruncatedError(2, r.remaining, r.offset, this.path());
      }
      if (n < d.name.length + 1) return;
      const nameBytes = r.peekBytes(2, n);
      if (!nameBytes) {
        if (this.endIsFinal) return;
        throw new TruncatedError(2 + n, r.remaining, r.offset, this.path());
      }
      const name = latin1(nameBytes);
      if (!name.startsWith(d.name)) return;
      const sub = subs.find((s) => s.name === name);
      if (!sub) this.unknownSubsection(d, name);
      r.skip(2 + n);
      const version = r.u32() & 0xff; // QEMU keeps the subsection version in a uint8_t
      const saved = this.stack[at];
      this.stack[at] = sub.name;
      this.vmsd(sub, state, version, at);
      this.stack[at] = saved;
      if (!loaded.includes(sub)) loaded.push(sub);
    }
  }
}

/** Kinds whose read is one reader call (the expression reading one), using neither the receiver's value nor the loader. */
const PLAIN_KINDS: ReadonlyMap<Kind<unknown>, string> = new Map<Kind<unknown>, string>([
  [kinds.u8, 'r.u8()'],
  [kinds.u16, 'r.u16()'],
  [kinds.u32, 'r.u32()'],
  [kinds.i8, 'r.i8()'],
  [kinds.i16, 'r.i16()'],
  [kinds.i32, 'r.i32()'],
  [kinds.u64, 'r.u64()'],
  [kinds.i64, 'r.i64()'],
  [kinds.bool, 'r.u8() !== 0'],
  [kinds.timer, 'r.i64()'],
]);

/**
 * For a struct kind whose description is a flat run of plain values (virtio's 1024-queue
 * arrays): a reader of one element into a fresh object literal, with the keys in the order
 * loadNested gives them. Null for anything else: hooks, subsections, fields a version or test
 * may leave out, variable counts, kinds of their own.
 */
type FlatReader = (r: ByteReader) => State;
const flatReaders = new WeakMap<Kind<unknown>, FlatReader | null>();
function flatReader(kind: Kind<unknown>): FlatReader | null {
  let reader = flatReaders.get(kind);
  if (reader !== undefined) return reader;
  reader = null;
  const desc = kinds.isStructKind(kind) ? (kind.desc as unknown as AnyVMSDesc) : undefined;
  const ok =
    desc !== undefined &&
    !desc.pre_load &&
    !desc.post_load &&
    desc.subsections.length === 0 &&
    desc.minimum_version_id <= desc.version_id &&
    desc.fields.every(
      (f) =>
        !f.exists &&
        f.version <= desc.version_id &&
        ((f.shape === 'unused' && Number.isSafeInteger(f.kind.wireSize)) ||
          (PLAIN_KINDS.has(f.kind) &&
            (f.shape === 'value' ||
              (f.shape === 'array' && f.count.from === 'fixed' && f.count.n <= 64)))),
    );
  if (ok) {
    // One function per description: the reads in order into locals, then one object literal,
    // which gives every element the same shape.
    const lines: string[] = [];
    const props: string[] = [];
    desc.fields.forEach((f, i) => {
      if (f.shape === 'unused') return void lines.push(`r.skip(${f.kind.wireSize});`);
      const one = PLAIN_KINDS.get(f.kind)!;
      const n = f.shape === 'array' ? (f.count as { n: number }).n : 0;
      lines.push(
        `const v${i} = ${f.shape === 'array' ? `[${Array<string>(n).fill(one).join(', ')}]` : one};`,
      );
      props.push(`${JSON.stringify(f.key)}: v${i}`);
    });
    reader = new Function('r', `${lines.join(' ')} return { ${props.join(', ')} };`) as FlatReader;
  }
  flatReaders.set(kind, reader);
  return reader;
}
