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

// Streams: decode (a file, a Node stream or bytes) and encode whole migration streams.
export * from './stream';
export { openStream, decodeStream, type StreamInput } from './stream/open';

// Analysis views of a decoded stream (what `vmstate analyze` prints).
export { analysisObject, analysisJson } from './analyze/json-format';
export { analysisTree } from './analyze/tree-format';
export { qemuStateJson, qemuDescJson } from './analyze/qemu-format';
export { extractStream } from './analyze/extract';
export {
  checkAgainstCatalog,
  formatCatalogCheck,
  type CheckCatalog,
} from './analyze/catalog-check';
export type { SectionView } from './analyze/section-view';
export { NO_CATALOG, type AnalysisCatalog } from './analyze/analysis-catalog';

// Compatibility: the static checker and the migration matrix, over releases and a platform.
export { checkCompat, formatReport, type CheckMode, type CheckReport } from './compat/static/check';
export { fromVmsd, fromDumpJson, type CheckSet } from './compat/static/model';
export {
  checkReleases,
  releaseCheckSet,
  neededOnOldMachineHook,
  type SamplingOptions,
} from './compat/static/release-set';
export {
  runMatrix,
  matrixCells,
  machinesFor,
  checkMigration,
  shrinkCell,
  type Cell,
  type CellResult,
  type Counterexample,
  type MatrixOptions,
  type MatrixResult,
} from './compat/matrix';
export {
  migrate,
  formatOutcome,
  MigrationCache,
  type Vm,
  type GeneratedVm,
  type MigrationOutcome,
} from './compat/migrate';
export { writeRepro, type ReproFiles } from './compat/repro';
export type { Platform } from './compat/platform';
export {
  sectionKey,
  findMachine,
  machineCtx,
  machineProps,
  type Release,
  type CatalogSection,
  type CompatProp,
  type MachineType,
  type VmStates,
} from './compat/release';
export {
  predictLoad,
  predictContents,
  formatPrediction,
  type Prediction,
  type PredictedOutcome,
  type PredictedRefusal,
  type PredictedLoss,
  type RefusalReason,
  type PredictInput,
  type UndescribedSection,
} from './predict/predict';
export type { LoadPlatform, PlatformSection, PlatformCatalog } from './predict/platform';
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
  parseTapAddress,
  type TapOptions,
  type TapResult,
  type TapEvent,
  type TapAddress,
  PredictionCheck,
  type Destination,
  type Refusal,
  type SectionVerdict,
} from './tap';
