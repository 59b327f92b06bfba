import type * as fc from 'fast-check';
import { ByteReader } from '../bytes/reader';
import { ByteWriter } from '../bytes/writer';
import { EqualMismatchError, RangeCheckError } from '../errors';
import { registerFast, registerStruct } from './fast-codec';
import { freshInitialMaker } from './fresh-state';
import type { AnyVMSD, Kind, KindIO, NestedArbitrary, State } from './kind';
import type { AnyVMSDesc } from './vmsd';

/** A 8/16/32-bit integer kept as a JS number. */
function intKind(type: string, bytes: 1 | 2 | 4, signed: boolean): Kind<number> {
  const min = signed ? -(2 ** (bytes * 8 - 1)) : 0;
  const max = signed ? 2 ** (bytes * 8 - 1) - 1 : 2 ** (bytes * 8) - 1;
  const read = {
    1: signed ? (r: ByteReader) => r.i8() : (r: ByteReader) => r.u8(),
    2: signed ? (r: ByteReader) => r.i16() : (r: ByteReader) => r.u16(),
    4: signed ? (r: ByteReader) => r.i32() : (r: ByteReader) => r.u32(),
  }[bytes];
  const write = {
    1: (w: ByteWriter, v: number) => w.u8(v & 0xff),
    2: signed ? (w: ByteWriter, v: number) => w.i16(v) : (w: ByteWriter, v: number) => w.u16(v),
    4: signed ? (w: ByteWriter, v: number) => w.i32(v) : (w: ByteWriter, v: number) => w.u32(v),
  }[bytes];
  const op = `${signed ? 'i' : 'u'}${bytes * 8}` as 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32';
  return registerFast(
    {
      type,
      wireSize: bytes,
      minWireSize: bytes,
      check: (v) =>
        typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max
          ? `expected an integer in ${min}..${max} for ${type}, got ${describe(v)}`
          : undefined,
      write,
      read: (r) => read(r),
      initial: () => 0,
      arbitrary: (f) => f.integer({ min, max }),
      equals: (a, b) => a === b,
    },
    { op },
  );
}

/** A 64-bit integer kept as a bigint (JS numbers lose precision past 2^53). */
function bigKind(type: string, signed: boolean): Kind<bigint> {
  const min = signed ? -(1n << 63n) : 0n;
  const max = signed ? (1n << 63n) - 1n : (1n << 64n) - 1n;
  return registerFast(
    {
      type,
      wireSize: 8,
      minWireSize: 8,
      check: (v) =>
        typeof v !== 'bigint' || v < min || v > max
          ? `expected a bigint in ${min}..${max} for ${type}, got ${describe(v)}`
          : undefined,
      write: signed ? (w, v) => w.i64(v) : (w, v) => w.u64(v),
      read: signed ? (r) => r.i64() : (r) => r.u64(),
      initial: () => 0n,
      arbitrary: (f) => f.bigInt({ min, max }),
      equals: (a, b) => a === b,
    },
    { op: signed ? 'i64' : 'u64' },
  );
}

export const u8 = intKind('uint8', 1, false);
export const u16 = intKind('uint16', 2, false);
export const u32 = intKind('uint32', 4, false);
export const i8 = intKind('int8', 1, true);
export const i16 = intKind('int16', 2, true);
export const i32 = intKind('int32', 4, true);
export const u64 = bigKind('uint64', false);
export const i64 = bigKind('int64', true);

/** QEMU's bool: one byte, written 0/1; any non-zero byte reads as true. */
export const bool: Kind<boolean> = registerFast(
  {
    type: 'bool',
    wireSize: 1,
    minWireSize: 1,
    check: (v) => (typeof v === 'boolean' ? undefined : `expected a boolean, got ${describe(v)}`),
    write: (w, v) => w.u8(v ? 1 : 0),
    read: (r) => r.u8() !== 0,
    initial: () => false,
    arbitrary: (f) => f.boolean(),
    equals: (a, b) => a === b,
  },
  { op: 'bool' },
);

/** A QEMU timer: be64 expiry in ns on its clock, -1 when not armed. */
export const timer: Kind<bigint> = { ...bigKind('timer', true), initial: () => -1n };

/** A fixed-size byte buffer. */
export function buffer(size: number, type = 'buffer'): Kind<Uint8Array> {
  return registerFast(
    {
      type,
      wireSize: size,
      minWireSize: size,
      check: (v) =>
        v instanceof Uint8Array && v.length === size
          ? undefined
          : `expected a Uint8Array of ${size} bytes, got ${describe(v)}`,
      write: (w, v) => w.bytes(v),
      read: (r) => r.bytesCopy(size),
      initial: () => new Uint8Array(size),
      arbitrary: (f) => f.uint8Array({ minLength: size, maxLength: size }),
      equals: bytesEqual,
    },
    { op: 'bytes', size },
  );
}

/**
 * The `_EQUAL` variants: the value travels as the base kind, and the receiver refuses a value
 * different from its own (QEMU uses them for sizes and counts both sides must agree on).
 */
export function equal<T>(base: Kind<T>, hint = ''): Kind<T> {
  const type = base === (u64 as Kind<unknown>) ? 'int64 equal' : `${base.type} equal`; // QEMU names the u64 one "int64 equal"
  return {
    ...base,
    type,
    agreed: true,
    read: (r, io, current) => {
      const at = r.offset;
      const v = base.read(r, io, current);
      const mine = current ?? base.initial();
      if (!base.equals(v, mine))
        io.fail((_, path) => new EqualMismatchError(v, mine, hint, at, path));
      return v;
    },
  };
}

/** VMSTATE_INT32_POSITIVE_LE: a be32 the receiver accepts only within 0..its own value. */
export const int32le: Kind<number> = {
  ...intKind('int32 le', 4, true),
  agreed: true,
  read: (r, io, current) => {
    const at = r.offset;
    const v = r.i32();
    const limit = current ?? 0;
    if (v < 0 || v > limit) io.fail((_, path) => new RangeCheckError(v, limit, at, path));
    return v;
  },
};

/** The kinds struct() made (a copy with another read is not one): the loader may read them its own way. */
const structKinds = new WeakSet<Kind<unknown>>();
export const isStructKind = (k: Kind<unknown>): k is Kind<State> & { readonly desc: AnyVMSD } =>
  structKinds.has(k);

/** A nested description written inline: its fields, then its own subsections; no version on the wire. */
export function struct<D extends AnyVMSD>(
  desc: D,
  type = 'struct',
): Kind<State> & { readonly desc: D } {
  let make: (() => State) | undefined;
  const kind: Kind<State> & { readonly desc: D } = {
    type,
    desc,
    wireSize: undefined,
    minWireSize: 0,
    check: (v) =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? undefined
        : `expected an object, got ${describe(v)}`,
    write: (w, v, io) => io.saveNested(w, desc, v, desc.name),
    read: (r, io, current) => io.loadNested(r, desc, current, desc.name),
    // The maker looked up once, not at each element of an absent register file.
    initial: () => (make ??= freshInitialMaker(desc as unknown as AnyVMSDesc))(),
    arbitrary: (_f, nested) => nested(desc),
    equals: (a, b) => valuesEqual(a, b),
  };
  structKinds.add(kind);
  registerStruct(kind, desc);
  return kind;
}

/**
 * A kind with hand-written get/put, as QEMU has many (timers, PCI config, virtio): the catalog
 * supplies the faces, the engine treats it like any other kind.
 */
export function custom<T>(spec: {
  type: string;
  wireSize?: number;
  minWireSize?: number;
  write(w: ByteWriter, value: T, io: KindIO): void;
  read(r: ByteReader, io: KindIO, current: T | undefined): T;
  initial(): T;
  arbitrary(f: typeof fc, nested: NestedArbitrary): fc.Arbitrary<T>;
  check?(value: unknown): string | undefined;
  equals?(a: T, b: T): boolean;
}): Kind<T> {
  return {
    type: spec.type,
    wireSize: spec.wireSize,
    minWireSize: spec.minWireSize ?? spec.wireSize ?? 0,
    check: spec.check ?? (() => undefined),
    write: spec.write,
    read: spec.read,
    initial: spec.initial,
    arbitrary: spec.arbitrary,
    equals: spec.equals ?? ((a, b) => valuesEqual(a, b)),
  };
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Structural equality over the value types states hold. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return bytesEqual(a, b);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => valuesEqual(x, b[i]));
  if (
    a &&
    b &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    return (
      ka.length === kb.length && ka.every((k) => valuesEqual((a as State)[k], (b as State)[k]))
    );
  }
  return false;
}

export function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === 'string') return JSON.stringify(v);
  return typeof v === 'object' ? (v === null ? 'null' : 'object') : String(v);
}
