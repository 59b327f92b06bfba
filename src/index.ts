/** vmstate-lab's public API. */
export * from './dsl';
export {
  save,
  saveDescribed,
  saveInto,
  canCompress,
  SUBSECTION_MARKER,
  type SaveOptions,
} from './engine/save';
export { load, loadFrom, type LoadOptions } from './engine/load';
export { initialState, cloneValue, statesEqual } from './engine/state';
export {
  arbitraryState,
  canonicalState,
  receiverState,
  type ArbitraryOptions,
} from './engine/arbitrary';
export { arbitraryDescription } from './engine/arbitrary-description';
export type { VmdescField, VmdescVMSD } from './engine/vmdesc-types';
export * from './errors';
export { ByteReader } from './bytes/reader';
export { ByteWriter } from './bytes/writer';
export { fileSource, bytesSource, readableSource, type ChunkSource } from './stream/source';
export {
  diffStreams,
  DiffInputError,
  diffJson,
  diffTree,
  type DiffOptions,
  type RamMode,
  type StreamDiff,
  type SectionDiff,
  type FieldDiff,
  type RamDiff,
  type RamBlockDiff,
} from './diff';
export {
  tapMigration,
  TapConnectionError,
  TapListenError,
  catalogCheck,
  parseTapAddress,
  type TapOptions,
  type TapResult,
  type TapEvent,
  type TapAddress,
  type MigrationCheck,
  type Refusal,
  type SectionVerdict,
} from './tap';
