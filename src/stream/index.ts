/**
 * The stream layer: whole QEMU migration streams, read forward in bounded memory and written back
 * byte for byte. Device sections are decoded by pluggable codecs (CodecResolver); the default is
 * the interpreter of the VM description the stream carries.
 */
export { walkStream, type WalkOptions, type WalkSummary, type StreamLimits } from './walk';
export {
  readStreamContents,
  ContentsCollector,
  type StreamContents,
  type TopLevelEntry,
  type RamSectionSummary,
} from './collect';
export { StreamEncoder, sectionBody } from './encoder';
export { transcodeToFile, EditingVisitor } from './transcode';
export {
  parseAssignment,
  applyAssignment,
  resolveField,
  EditError,
  type FieldAssignment,
} from './edit';
export { fileSource, readableSource, bytesSource, type ChunkSource } from './source';
export { MemorySink, FdSink, type ByteSink } from './sink';
export {
  codecOf,
  sectionPath,
  type SectionInfo,
  type SectionCodec,
  type SectionDecodeFn,
  type CodecResolver,
  type DeviceSection,
} from './section';
export { decodeByVmdesc, encodeDescStruct, vmdescResolver } from './vmdesc-codec';
export {
  parseVmdesc,
  VmdescIndex,
  type Vmdesc,
  type VmdescDevice,
  type VmdescField,
  type VmdescVmsd,
} from './vmdesc';
export type { DescValue, DescStruct, DescEntry, DescSubsection } from './vmdesc-value';
export type { RamRecord, RamBlockInfo } from './ram';
export type { StreamRecord, StreamVisitor } from './records';
export { StreamBuilder, writeSyntheticStream } from './synth';
