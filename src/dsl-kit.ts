/**
 * The part of the public API (src/index.ts) that a device description needs: the DSL, its errors,
 * the byte reader and writer, the engine's load and save. The catalog (vmstate/) imports this
 * instead of the index, which also loads the static checker (and zod), fast-check's arbitraries
 * and the matrix: loading the catalog for one stream cost a third of a second more with them.
 */
export * from './dsl';
export { saveDescribed, saveInto } from './engine/save';
export { loadFrom } from './engine/load';
export { initialState } from './engine/state';
export * from './errors';
export { ByteReader } from './bytes/reader';
export { ByteWriter } from './bytes/writer';
