/** The declarative VMState DSL: `vmsd({...})` with fields from `f`, element kinds from `k`. */
export * as f from './builders';
export * as k from './kinds';
export { vmsd, type VMSD, type AnyVMSDesc, type StateOf } from './vmsd';
export type { Field, AnyField, FieldOptions, FieldShape, ExistsTest, Count } from './field';
export { holdsState, unreachableShape } from './field';
export type { Kind, KindIO, Ctx, State } from './kind';
export { tmp, tmpKind } from './tmp';
export { byteArray, byteArrayKind } from './byte-array';
