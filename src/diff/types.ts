/** What `diffStreams` finds between two migration streams, as plain data (JSON- and HTML-ready). */

/** How one stream's copy of a section was read. */
export interface SectionSide {
  sectionId: number;
  version: number;
  /** 'vmdesc' (the stream's description), 'catalog' (the device catalog) or 'opaque' (bytes only). */
  decodedBy: string;
  offset: number;
  size: number;
}

export type FieldChange = 'value' | 'type' | 'only-a' | 'only-b';

export interface FieldDiff {
  /** The path as `--format qemu` names it (`env.regs[1]`, `cpu/poll_control_msr.env.poll_control_msr`). */
  path: string;
  /** The path without the last array index: `env.regs` for `env.regs[1]`. */
  field: string;
  /** The array index, for array elements. */
  index?: number;
  change: FieldChange;
  /** Field types, as the description names them (`uint32`, `buffer`, `timer`...). */
  typeA?: string;
  typeB?: string;
  /** The values as --format qemu prints them (buffers: their differing bytes only). */
  a?: string;
  b?: string;
  /** For buffers: the byte ranges [start, end) that differ. */
  byteRanges?: Array<[number, number]>;
}

export interface SectionDiff {
  idstr: string;
  instance: number;
  status: 'only-a' | 'only-b' | 'changed' | 'same';
  a?: SectionSide;
  b?: SectionSide;
  versionDiffers: boolean;
  /** Subsections (at any depth, by their path) present in one stream's copy only. */
  subsectionsOnlyInA: string[];
  subsectionsOnlyInB: string[];
  fields: FieldDiff[];
  /** Sections neither side could decode field by field: whether their bytes differ. */
  bytesDiffer?: boolean;
}

export interface RamBlockSide {
  length: string;
  pages: number;
  zeroPages: number;
}

export interface PageRange {
  /** Offsets within the block, [start, end). */
  start: string;
  end: string;
  pages: number;
}

export interface RamBlockDiff {
  name: string;
  status: 'only-a' | 'only-b' | 'size-differs' | 'same-size';
  a?: RamBlockSide;
  b?: RamBlockSide;
  /** With `ram: 'pages'`: pages whose final content differs, as ranges. */
  differingPages?: number;
  ranges?: PageRange[];
  /** Pages one side sent in a form that cannot be compared without the previous content (XBZRLE). */
  uncomparedPages?: number;
}

export interface RamDiff {
  mode: 'summary' | 'pages';
  pageSizeA: number;
  pageSizeB: number;
  blocks: RamBlockDiff[];
  /** With `ram: 'pages'`: differing pages over all blocks both streams have. */
  differingPages?: number;
}

export interface StreamSideInfo {
  name: string;
  size: number;
  machineType?: string;
  /** Where the description used for decoding came from ('none': sections decoded by the catalog). */
  vmdesc: string;
}

export interface DiffSummary {
  onlyInA: number;
  onlyInB: number;
  changed: number;
  same: number;
  /** Differing pages (only with ram 'pages'). */
  pagesDiffer?: number;
  /** RAM blocks present in one only or of another size. */
  ramBlocksDiffer: number;
  configurationDiffers: boolean;
  identical: boolean;
}

export interface StreamDiff {
  a: StreamSideInfo;
  b: StreamSideInfo;
  summary: DiffSummary;
  /** The configuration section: machine type, page bits, capabilities. */
  configuration: FieldDiff[];
  /** Every section of either stream (filtered by `sections`), in A's order then B's extra ones. */
  sections: SectionDiff[];
  ram?: RamDiff;
}
