import { makeField, type Field, type FieldOptions } from './field';
import type { Ctx, Kind, State } from './kind';
import * as k from './kinds';
import type { AnyVMSDesc, StateOf } from './vmsd';

type ValueOf<KD> = KD extends Kind<infer T> ? T : never;

/** One element of any kind (QEMU's VMSTATE_<TYPE>, _V, _TEST). */
// A kind's value type is inferred from the argument; `any` is only the constraint.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function field<const K extends string, KD extends Kind<any>>(
  key: K,
  kind: KD,
  opts?: FieldOptions,
): Field<K, ValueOf<KD>> {
  return makeField(key, 'value', kind, { from: 'one' }, opts);
}

const scalar =
  <T>(kind: Kind<T>) =>
  <const K extends string>(key: K, opts?: FieldOptions): Field<K, T> =>
    makeField(key, 'value', kind, { from: 'one' }, opts);

export const u8 = scalar(k.u8);
export const u16 = scalar(k.u16);
export const u32 = scalar(k.u32);
export const u64 = scalar(k.u64);
export const i8 = scalar(k.i8);
export const i16 = scalar(k.i16);
export const i32 = scalar(k.i32);
export const i64 = scalar(k.i64);
export const bool = scalar(k.bool);
export const timer = scalar(k.timer);
/** VMSTATE_INT32_POSITIVE_LE: accepted only within 0..the receiver's own value. */
export const int32le = scalar(k.int32le);

/** QEMU's _EQUAL macros: the receiver refuses a value different from its own. */
export function equal<const K extends string, T>(
  key: K,
  kind: Kind<T>,
  opts?: FieldOptions & { hint?: string },
): Field<K, T> {
  return makeField(key, 'value', k.equal(kind, opts?.hint), { from: 'one' }, opts);
}

/** A fixed-size byte buffer (VMSTATE_BUFFER, VMSTATE_UINT8_ARRAY of kernel structs). */
export function buffer<const K extends string>(
  key: K,
  size: number,
  opts?: FieldOptions,
): Field<K, Uint8Array> {
  return makeField(key, 'value', k.buffer(size), { from: 'one' }, opts);
}

/** A fixed-count array (VMSTATE_*_ARRAY, VMSTATE_STRUCT_ARRAY). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function array<const K extends string, KD extends Kind<any>>(
  key: K,
  kind: KD,
  n: number,
  opts?: FieldOptions,
): Field<K, ValueOf<KD>[]> {
  return makeField(key, 'array', kind, { from: 'fixed', n }, opts);
}

/** An array whose length is the value of an earlier field (VMSTATE_VARRAY_*), never above `max`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function varray<const K extends string, KD extends Kind<any>>(
  key: K,
  kind: KD,
  length: { count: string; max: number },
  opts?: FieldOptions,
): Field<K, ValueOf<KD>[]> {
  return makeField(
    key,
    'array',
    kind,
    { from: 'field', field: length.count, max: length.max },
    opts,
  );
}

/** Bytes whose number is the value of an earlier field (VMSTATE_VBUFFER*, VMSTATE_PARTIAL_BUFFER), at most `max`. */
export function vbuffer<const K extends string>(
  key: K,
  length: { size: string; max: number },
  opts?: FieldOptions,
): Field<K, Uint8Array> {
  return makeField(
    key,
    'vbuffer',
    k.buffer(0),
    { from: 'field', field: length.size, max: length.max },
    opts,
  );
}

/** A nested description inline (VMSTATE_STRUCT): its state is a nested object. */
export function struct<const K extends string, D extends AnyVMSDesc>(
  key: K,
  desc: D,
  opts?: FieldOptions,
): Field<K, StateOf<D>> {
  return makeField(key, 'value', k.struct(desc), { from: 'one' }, opts);
}

/** A fixed-count array of nested descriptions (VMSTATE_STRUCT_ARRAY). */
export function structArray<const K extends string, D extends AnyVMSDesc>(
  key: K,
  desc: D,
  n: number,
  opts?: FieldOptions,
): Field<K, StateOf<D>[]> {
  return makeField(key, 'array', k.struct(desc), { from: 'fixed', n }, opts);
}

let unusedCount = 0;
/** VMSTATE_UNUSED(n): n zero bytes written, n bytes skipped on load; no state. */
export function unused(n: number, opts?: Omit<FieldOptions, 'as'>): Field<never, never> {
  // Each placeholder gets a private key so descriptions can hold several; QEMU names them all "unused".
  return makeField(
    `\u0000unused${unusedCount++}` as never,
    'unused',
    k.buffer(n, 'unused_buffer'),
    { from: 'one' },
    { ...opts, as: 'unused' },
  );
}

/** VMSTATE_VALIDATE: no bytes; on load, a false test refuses the stream with `message`. */
export function validate(
  name: string,
  test: (state: Readonly<State>, version: number, ctx: Ctx) => boolean,
  message = '',
): Field<never, never> {
  return makeField(
    `\u0000validate:${name}` as never,
    'validate',
    k.u8,
    { from: 'fixed', n: 0 },
    { as: name },
    { test, message },
  );
}
