import type { AnyVMSD, Kind } from './kind';

/**
 * How the engine's compiled plans (engine/plan.ts) may read or write a kind without calling it:
 * the read, write and check functions of the plain kinds (dsl/kinds.ts) are registered here, so a kind
 * spread from one of them (`{ ...u32, type }`) keeps the fast path exactly when it keeps those
 * functions, and loses it when it replaces one (the `_equal` kinds' read, for example).
 */
export type FastCodec =
  | { readonly op: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64' | 'bool' }
  | { readonly op: 'bytes'; readonly size: number };
/** Keyed by a kind's read function, and by its write function (with the check it must be paired with). */
export const fastReads = new WeakMap<object, FastCodec>();
export const fastWrites = new WeakMap<object, { codec: FastCodec; check: object }>();
export function registerFast<T>(kind: Kind<T>, codec: FastCodec): Kind<T> {
  fastReads.set(kind.read, codec);
  fastWrites.set(kind.write, { codec, check: kind.check });
  return kind;
}

/**
 * The struct kinds (kinds.ts's struct(), and copies spread from one such as VMSTATE_WITH_TMP's):
 * a plan may write or read the nested description inline instead of calling the kind, exactly
 * when the kind keeps the struct's own write (with its check) or read.
 */
export const structWrites = new WeakMap<object, { desc: AnyVMSD; check: object }>();
export const structReads = new WeakMap<object, AnyVMSD>();
export function registerStruct<T>(kind: Kind<T>, desc: AnyVMSD): void {
  structWrites.set(kind.write, { desc, check: kind.check });
  structReads.set(kind.read, desc);
}
