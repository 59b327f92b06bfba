import type { FilePages } from './file-pages';
import type { SectionKind } from './constants';
import type { PageCounts, PageRecord, RamRecord } from './ram';
import type { DeviceSection } from './section';
import type { Vmdesc } from './vmdesc';

/**
 * The events a stream walk produces, in stream order. Each carries what is needed to write its
 * bytes again exactly (see encoder.ts), plus absolute offsets for analysis and error messages.
 */

export interface HeaderRecord {
  type: 'header';
  offset: number;
  magic: number;
  version: number;
}

export interface ConfigurationSubsection {
  name: string;
  version: number;
  offset: number;
}

/** The 0x07 record: a VMSD body with no header/footer (machine type and optional subsections). */
export interface ConfigurationRecord {
  type: 'configuration';
  offset: number;
  /** The raw body after the 0x07 byte. */
  body: Uint8Array;
  machineType: string;
  targetPageBits?: number;
  capabilities?: string[];
  uuid?: Uint8Array;
  subsections: ConfigurationSubsection[];
  depth: number;
}

/** The header of a START/PART/END/FULL record of the RAM section; page records follow as RamRecords. */
export interface RamSectionHeader {
  type: 'ram-section';
  kind: SectionKind;
  offset: number;
  sectionId: number;
  idstr: string;
  instanceId: number;
  versionId: number;
  /** The target page size the walk uses to split flags from addresses. */
  pageSize: number;
  depth: number;
}

export interface DeviceSectionRecord {
  type: 'section';
  section: DeviceSection;
}

export interface RamRecordEvent {
  type: 'ram';
  record: RamRecord;
  depth: number;
}

/** Where a visitor's page bytes go (StreamVisitor.pageBytes). */
export interface PageBytesSink {
  pages(block: string, addr: number, b: Uint8Array, from: number, count: number): void;
  /** A zero page of fill 0 at `addr`, in stream order with the stretches. */
  zeroPage(block: string, addr: number): void;
  /**
   * A stretch of data pages at consecutive addresses that stays in the input file: `count`
   * records from its offset `from` (the walk stepped over them through the file's mapping; see
   * ChunkSource.pages). Without it, pages always come to `pages`.
   */
  filePages?(block: string, addr: number, file: FilePages, from: number, count: number): void;
  pageRecord(rec: PageRecord): void;
}

/**
 * A run of page records of one RAM block, in place of a RamRecordEvent per page, for a visitor
 * whose `ramPages` is 'runs'. The run's records are [offset, end) of the stream; the records of
 * the RAM section that are not pages (MEM_SIZE, EOS, MULTIFD_FLUSH) still come as RamRecordEvents,
 * in stream order between runs.
 */
export interface RamPagesRecord extends PageCounts {
  type: 'ram-pages';
  /** Offset of the run's first record. */
  offset: number;
  /** Offset just past its last record (where the next record starts). */
  end: number;
  block: string;
  depth: number;
}

export interface FooterRecord {
  type: 'footer';
  offset: number;
  sectionId: number;
  depth: number;
}

export interface CommandRecord {
  type: 'command';
  offset: number;
  cmd: number;
  name: string;
  payload: Uint8Array;
  /** PACKAGED: size of the nested stream that follows (its records follow at depth + 1). */
  packagedSize?: number;
  depth: number;
}

export interface EofRecord {
  type: 'eof';
  offset: number;
  depth: number;
}

export interface VmdescRecord {
  type: 'vmdesc';
  /** Offset of the 0x06 byte. */
  offset: number;
  /** The raw JSON bytes (the be32 length is json.length). */
  json: Uint8Array;
  /** Parsed description, or the reason it could not be parsed. */
  desc?: Vmdesc;
  error?: string;
}

/** Bytes after the vmdesc (or after EOF when no vmdesc follows), or left over inside a package. */
export interface TrailingRecord {
  type: 'trailing';
  offset: number;
  data: Uint8Array;
  depth: number;
}

export type StreamRecord =
  | HeaderRecord
  | ConfigurationRecord
  | RamSectionHeader
  | DeviceSectionRecord
  | RamRecordEvent
  | RamPagesRecord
  | FooterRecord
  | CommandRecord
  | EofRecord
  | VmdescRecord
  | TrailingRecord;

/** Receives records as the walk produces them. Views in records are valid only during the call unless noted. */
export interface StreamVisitor {
  record(rec: StreamRecord): void;
  /**
   * How RAM pages reach the visitor. 'records' (the default): a RamRecordEvent per page, its data
   * a view of the input (extract, reencode, diff's page hashes, explore's page map need it).
   * 'runs': for visitors that need no page data (analyze's formats, predict, the tap's verdict
   * and counts) a RamPagesRecord per run of pages of one block, about one per input chunk: the
   * walker then steps over pages without an object or a copy per page. Errors are the same
   * either way (the same offsets and paths); only the events differ.
   */
  readonly ramPages?: 'records' | 'runs';
  /**
   * With `ramPages` 'runs', the page bytes too, for a visitor that writes them (extract), still
   * without an object per page. Raw pages the walk steps over come as `pages`: `count` pages at
   * addresses addr, addr + pageSize, ... of `block`, the i-th page's bytes at
   * b[from + 8 + i * (8 + pageSize)] (valid only during the call). Every other page record (a
   * named one, a zero page with a non-zero fill, compressed, XBZRLE) comes as `pageRecord`. Both
   * in stream order, before the run's RamPagesRecord. Zero pages of fill 0 come in neither.
   */
  readonly pageBytes?: PageBytesSink;
  /** Awaited between input chunks, so a writer can apply backpressure. */
  drain?(): Promise<void> | void;
}
