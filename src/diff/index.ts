export { diffStreams, DiffInputError, type DiffOptions, type RamMode } from './diff';
export { diffJson, diffTree, summaryLine } from './format';
export type * from './types';
