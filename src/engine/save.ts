import { ByteWriter } from '../bytes/writer';
import { unreachableShape, type AnyField } from '../dsl/field';
import type { Ctx, KindIO, State } from '../dsl/kind';
import type { AnyVMSDesc, StateOf } from '../dsl/vmsd';
import { HookError, InvalidValueError, VMStateError } from '../errors';
import { countValue, fieldExists, subsectionNeeded, vmdescNames } from './fields';
import { planSave } from './plan';
import type { VmdescField, VmdescVMSD } from './vmdesc-types';

/** QEMU_VM_SUBSECTION: the byte that opens a subsection. */
export const SUBSECTION_MARKER = 0x05;

export interface SaveOptions {
  readonly ctx?: Ctx;
  /** Path prefix for errors (the stream layer passes `cpu#0`). */
  readonly path?: string;
}

/** Writes a state as QEMU's vmstate_save_state does: fields, then needed subsections. */
export function save<D extends AnyVMSDesc>(
  desc: D,
  state: StateOf<D> | State,
  opts: SaveOptions = {},
): Uint8Array {
  return withWriter((w) => {
    saveBody(w, desc, state as State, opts);
    return w.finish();
  });
}

/**
 * The compiled plan first (plan.ts); when it gives up, the interpreter from the same position,
 * which raises the typed error (or, should the plan have refused what the rules allow, writes it).
 */
function saveBody(w: ByteWriter, desc: AnyVMSDesc, state: State, opts: SaveOptions): void {
  const start = w.pos;
  const ctx = opts.ctx ?? {};
  try {
    planSave(w, desc, state, ctx);
    return;
  } catch {
    w.pos = start;
  }
  new Saver(w, ctx, opts.path, false).top(desc, state);
}

/** save without the compiled plan: the rules as written, with paths (tests compare the two). */
export function saveInterpreted(
  desc: AnyVMSDesc,
  state: State,
  opts: SaveOptions = {},
): Uint8Array {
  return withWriter((w) => {
    new Saver(w, opts.ctx ?? {}, opts.path, false).top(desc, state);
    return w.finish();
  });
}

/** Like save, and also returns the VM description JSON QEMU writes for what was sent. */
export function saveDescribed<D extends AnyVMSDesc>(
  desc: D,
  state: StateOf<D> | State,
  opts: SaveOptions = {},
): { bytes: Uint8Array; vmdesc: VmdescVMSD } {
  return withWriter((w) => {
    const vmdesc = new Saver(w, opts.ctx ?? {}, opts.path, true).top(desc, state as State)!;
    return { bytes: w.finish(), vmdesc };
  });
}

/**
 * save() and saveDescribed() write into one writer kept between calls (it grows to the largest
 * state saved, up to 1 MiB) and return a copy of what was written: no growing and copying per
 * call. A save inside a hook of another save gets a writer of its own.
 */
let spare: ByteWriter | undefined;
function withWriter<T>(fn: (w: ByteWriter) => T): T {
  const w = spare ?? new ByteWriter(4096);
  spare = undefined;
  w.pos = 0;
  try {
    return fn(w);
  } finally {
    if (w.capacity <= 1 << 20) spare = w;
  }
}

/** Appends a state to a writer the stream layer owns; returns its vmdesc when asked. */
export function saveInto(
  w: ByteWriter,
  desc: AnyVMSDesc,
  state: State,
  opts: SaveOptions & { describe?: boolean } = {},
): VmdescVMSD | undefined {
  if (!opts.describe) {
    saveBody(w, desc, state, opts);
    return undefined;
  }
  return new Saver(w, opts.ctx ?? {}, opts.path, true).top(desc, state);
}

class Saver implements KindIO {
  private readonly stack: string[] = [];
  /** The element index at each level of `stack` that is inside an array (-1 or absent: none), made into text only for errors. */
  private readonly indexAt: number[] = [];
  /** The vmdesc list fields are being described into, or undefined while an element is not described. */
  private descFields: VmdescField[] | undefined;

  constructor(
    private readonly w: ByteWriter,
    readonly ctx: Ctx,
    prefix: string | undefined,
    private readonly describing: boolean,
  ) {
    if (prefix) this.stack.push(prefix);
  }

  private path(): string {
    return this.stack
      .map((s, i) => ((this.indexAt[i] ?? -1) >= 0 ? `${s}[${this.indexAt[i]}]` : s))
      .join(' > ');
  }

  fail(make: (offset: number, path: string) => Error): never {
    throw make(this.w.pos, this.path());
  }

  where(): string {
    return this.path();
  }

  top(desc: AnyVMSDesc, state: State): VmdescVMSD | undefined {
    this.stack.push(desc.name);
    const out = this.vmsd(desc, state, this.stack.length - 1);
    this.stack.pop();
    return out;
  }

  saveNested(_w: ByteWriter, desc: AnyVMSDesc, state: State, segment: string): void {
    this.stack.push(segment);
    const out = this.vmsd(desc, state, this.stack.length - 1);
    this.stack.pop();
    if (this.pendingStruct) this.pendingStruct.struct = out;
  }
  /** The vmdesc entry of the struct field being written, which receives the nested description. */
  private pendingStruct: VmdescField | undefined;

  loadNested(): State {
    throw new Error('loadNested called while saving');
  }

  private hook(name: string, fn: () => State | void): State | void {
    try {
      return fn();
    } catch (e) {
      if (e instanceof VMStateError) throw e;
      this.fail((o, p) => new HookError(name, e instanceof Error ? e.message : String(e), o, p));
    }
  }

  private vmsd(d: AnyVMSDesc, given: State, at: number): VmdescVMSD | undefined {
    const state =
      (d.pre_save &&
        (this.hook(`${d.name}: pre_save`, () => d.pre_save!(given, this.ctx)) as
          State | undefined)) ||
      given;
    const version = d.version_id;
    const out: VmdescVMSD | undefined = this.describing
      ? { vmsd_name: d.name, version, fields: [] }
      : undefined;
    const outer = this.descFields;
    const names = this.describing ? vmdescNames(d) : undefined;
    try {
      for (let i = 0; i < d.fields.length; i++) {
        const f = d.fields[i];
        if (!fieldExists(f, state, version, this.ctx)) continue;
        this.stack.push(f.name);
        this.descFields = out?.fields;
        this.field(f, state, names?.[i], version);
        this.stack.pop();
      }
      this.descFields = outer;
      for (const sub of d.subsections as readonly AnyVMSDesc[]) {
        if (!subsectionNeeded(sub, state, this.ctx)) continue;
        this.w.u8(SUBSECTION_MARKER);
        this.w.countedString(sub.name);
        this.w.u32(sub.version_id);
        const saved = this.stack[at];
        this.stack[at] = sub.name;
        const subDesc = this.vmsd(sub, state, at);
        this.stack[at] = saved;
        if (out && subDesc) (out.subsections ??= []).push(subDesc);
      }
    } finally {
      this.descFields = outer;
      if (d.post_save) this.hook(`${d.name}: post_save`, () => d.post_save!(state, this.ctx));
    }
    return out;
  }

  private check(f: AnyField, value: unknown): void {
    const problem = f.kind.check(value);
    if (problem) this.fail((o, p) => new InvalidValueError(problem, o, p));
  }

  private field(f: AnyField, state: State, descName: string | undefined, version: number): void {
    const w = this.w;
    const value = state[f.key];
    switch (f.shape) {
      case 'validate': {
        const v = f.validate!;
        if (!v.test(state, version, this.ctx))
          this.fail(
            (o, p) => new InvalidValueError(`refusing to save: ${v.message || f.name}`, o, p),
          );
        return;
      }
      case 'unused': {
        const start = w.pos;
        w.zeros(f.kind.wireSize!);
        this.describe(f, descName, -1, 1, w.pos - start);
        return;
      }
      case 'value': {
        this.check(f, value);
        this.element(f, value, descName, -1, 1);
        return;
      }
      case 'vbuffer': {
        const n = this.count(f, state);
        if (!(value instanceof Uint8Array) || value.length !== n)
          this.fail(
            (o, p) =>
              new InvalidValueError(
                `expected a Uint8Array of ${n} bytes (the value of '${(f.count as { field: string }).field}')`,
                o,
                p,
              ),
          );
        const start = w.pos;
        w.bytes(value);
        this.describe(f, descName, -1, 1, w.pos - start);
        return;
      }
      case 'array': {
        const n = this.count(f, state);
        if (!Array.isArray(value) || value.length !== n)
          this.fail(
            (o, p) =>
              new InvalidValueError(
                `expected an array of ${n} element(s), got ${Array.isArray(value) ? value.length : typeof value}`,
                o,
                p,
              ),
          );
        const top = this.stack.length - 1;
        const compress = this.describing && canCompress(f);
        for (let i = 0; i < n; i++) {
          this.indexAt[top] = i;
          this.check(f, value[i]);
          if (compress && i > 0) {
            const keep = this.descFields;
            this.descFields = undefined; // QEMU describes only the first element of a compressible array
            this.element(f, value[i], descName, i, n);
            this.descFields = keep;
          } else this.element(f, value[i], descName, i, n);
        }
        this.indexAt[top] = -1;
        return;
      }
      default:
        return unreachableShape(f.shape);
    }
  }

  private count(f: AnyField, state: State): number {
    if (f.count.from === 'fixed') return f.count.n;
    if (f.count.from === 'one') return 1;
    const c = f.count;
    const n = countValue(state[c.field]);
    if (n === undefined || n < 0 || n > c.max)
      this.fail(
        (o, p) =>
          new InvalidValueError(
            `length field '${c.field}' holds ${String(state[c.field])}, not within 0..${c.max}`,
            o,
            p,
          ),
      );
    return n;
  }

  private element(
    f: AnyField,
    value: unknown,
    descName: string | undefined,
    index: number,
    n: number,
  ): void {
    const start = this.w.pos;
    const entry = this.describe(f, descName, index, n, 0);
    const keep = this.pendingStruct;
    this.pendingStruct = entry;
    f.kind.write(this.w, value, this);
    this.pendingStruct = keep;
    if (entry) {
      if ((f.kind as { describeInline?: boolean }).describeInline) inlineNested(entry);
      entry.size = byteArrayOf(f) ? 1 : this.w.pos - start;
    }
  }

  /** Adds the vmdesc entry of one written element, in QEMU's key order. */
  private describe(
    f: AnyField,
    descName: string | undefined,
    index: number,
    n: number,
    size: number,
  ): VmdescField | undefined {
    if (!this.descFields || descName === undefined) return undefined;
    const entry: VmdescField = { name: descName } as VmdescField;
    if (n > 1) {
      if (canCompress(f)) entry.array_len = n;
      else entry.index = index;
    } else if (byteArrayOf(f)) entry.array_len = f.kind.wireSize!; // one Uint8Array value, described as QEMU's uint8[n]
    entry.type = f.kind.type;
    if ('desc' in f.kind) entry.struct = undefined; // filled by saveNested, keeps QEMU's key order
    entry.size = size;
    this.descFields.push(entry);
    return entry;
  }
}

/** VMSTATE_UINT8_ARRAY kept as one Uint8Array value (see dsl/byte-array.ts). */
function byteArrayOf(f: AnyField): boolean {
  return (f.kind as { describeAsByteArray?: boolean }).describeAsByteArray === true;
}

/**
 * VMSTATE_WITH_TMP entries: QEMU runs the temporary's description into the field's own JSON
 * object, so vmsd_name/version/fields sit beside name and type instead of under "struct".
 */
function inlineNested(entry: VmdescField): void {
  const nested = entry.struct;
  delete entry.struct;
  delete (entry as { size?: number }).size; // re-added after the nested keys, as QEMU orders them
  if (nested) Object.assign(entry, nested);
}

/** QEMU's vmsd_can_compress: arrays are folded into one entry unless something in them may come and go. */
export function canCompress(f: AnyField): boolean {
  if (f.exists) return false;
  const nested = (f.kind as { desc?: AnyVMSDesc }).desc;
  if (nested) {
    if ((nested.subsections as readonly AnyVMSDesc[]).length > 0) return false;
    return nested.fields.every(canCompress);
  }
  return true;
}
