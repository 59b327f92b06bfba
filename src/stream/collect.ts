import type { SectionKind } from './constants';
import type { RamBlockInfo, RamRecord } from './ram';
import type {
  CommandRecord,
  ConfigurationRecord,
  EofRecord,
  FooterRecord,
  RamPagesRecord,
  HeaderRecord,
  PageBytesSink,
  StreamRecord,
  StreamVisitor,
  TrailingRecord,
  VmdescRecord,
} from './records';
import type { DeviceSection } from './section';
import type { ChunkSource } from './source';
import { walkStream, type WalkOptions, type WalkSummary } from './walk';

/** One START/PART/END of the RAM section, summarized (its pages are not kept). */
export interface RamSectionSummary {
  type: 'ram-section';
  kind: SectionKind;
  sectionId: number;
  idstr: string;
  instanceId: number;
  versionId: number;
  offset: number;
  /** Bytes from the section type byte to the end of its EOS record. */
  size: number;
  /** Record count by the flags of the be64, e.g. 0x22 (ZERO|CONTINUE). */
  recordsByFlags: Map<number, number>;
  footer?: { offset: number; sectionId: number };
  depth: number;
}

export interface DeviceSectionEntry {
  type: 'section';
  section: DeviceSection;
}

export type TopLevelEntry = RamSectionSummary | DeviceSectionEntry | CommandRecord | TrailingRecord;

export interface RamBlockSummary extends RamBlockInfo {
  zeroPages: number;
  /** Zero-page records whose fill byte is not 0 (QEMU 7.x fills with it; 8.2+ rejects it). */
  nonZeroFill: number;
  pages: number;
  xbzrlePages: number;
  compressedPages: number;
}

/** A block's entry with no page counted yet (a literal of one shape: a block list may be long). */
function summary(b: RamBlockInfo): RamBlockSummary {
  const s: RamBlockSummary = {
    name: b.name,
    length: b.length,
    zeroPages: 0,
    nonZeroFill: 0,
    pages: 0,
    xbzrlePages: 0,
    compressedPages: 0,
  };
  if (b.pageSize !== undefined) s.pageSize = b.pageSize;
  if (b.mrAddr !== undefined) s.mrAddr = b.mrAddr;
  return s;
}

/** Everything about a stream except RAM page contents: what `analyze` prints. */
export interface StreamContents {
  header: HeaderRecord;
  configuration?: ConfigurationRecord;
  /** Sections and commands in stream order (nested PACKAGED content has depth 1). */
  entries: TopLevelEntry[];
  eof?: EofRecord;
  vmdesc?: VmdescRecord;
  trailing?: TrailingRecord;
  footers: number;
  ram: {
    pageSize: number;
    totalBytes?: number;
    blocks: RamBlockSummary[];
    recordsByFlags: Map<number, number>;
    records: number;
  };
  walk: WalkSummary;
}

/**
 * Collects a stream's structure and device state. RAM records are counted and handed to
 * `onRam` (for extraction) but not kept, so memory does not grow with the stream. Without
 * `onRam` the walk steps over page data and only counts pages (StreamVisitor.ramPages 'runs').
 */
export async function readStreamContents(
  source: ChunkSource,
  opts: WalkOptions & {
    onRam?: (rec: RamRecord, pageSize: number) => void;
    /** Awaited where the walk lets a visitor catch up (between input chunks of RAM). */
    onDrain?: () => Promise<void> | void;
    /**
     * With `onRam`: raw pages come here in stretches instead (StreamVisitor.pageBytes), zero
     * pages of fill 0 to `onZeroPage`, and `onRam` gets the other records.
     */
    onPages?: PageBytesSink['pages'];
    onZeroPage?: PageBytesSink['zeroPage'];
    /** With `onPages`: stretches of pages left in the input file (PageBytesSink.filePages). */
    onFilePages?: PageBytesSink['filePages'];
  } = {},
): Promise<StreamContents> {
  const c = new ContentsCollector(
    opts.onRam,
    opts.onDrain,
    opts.onPages,
    opts.onZeroPage,
    opts.onFilePages,
  );
  const walk = await walkStream(source, c, opts);
  return c.finish(walk);
}

export class ContentsCollector implements StreamVisitor {
  private header?: HeaderRecord;
  private configuration?: ConfigurationRecord;
  private readonly entries: TopLevelEntry[] = [];
  private eof?: EofRecord;
  private vmdesc?: VmdescRecord;
  private trailing?: TrailingRecord;
  private footers = 0;
  private currentRam?: RamSectionSummary;
  private readonly blocks = new Map<string, RamBlockSummary>();
  private totalBytes?: number;
  private readonly recordsByFlags = new Map<number, number>();
  private records = 0;
  private pageSize = 4096;

  /** Pages one by one only for `onRam` without `onPages`; the counts alone come in runs. */
  readonly ramPages: 'records' | 'runs';
  readonly pageBytes?: PageBytesSink;

  constructor(
    private readonly onRam?: (rec: RamRecord, pageSize: number) => void,
    private readonly onDrain?: () => Promise<void> | void,
    onPages?: PageBytesSink['pages'],
    onZeroPage: PageBytesSink['zeroPage'] = () => {},
    onFilePages?: PageBytesSink['filePages'],
  ) {
    this.ramPages = onRam && !onPages ? 'records' : 'runs';
    if (onRam && onPages)
      this.pageBytes = {
        pages: onPages,
        zeroPage: onZeroPage,
        filePages: onFilePages,
        pageRecord: (rec) => onRam(rec, this.pageSize),
      };
  }

  drain(): Promise<void> | void {
    return this.onDrain?.();
  }

  record(rec: StreamRecord): void {
    switch (rec.type) {
      case 'header':
        this.header = rec;
        return;
      case 'configuration':
        this.configuration = rec;
        return;
      case 'ram-section': {
        const { type: _t, pageSize, ...info } = rec;
        void _t;
        this.pageSize = pageSize;
        this.currentRam = { type: 'ram-section', ...info, size: 0, recordsByFlags: new Map() };
        this.entries.push(this.currentRam);
        return;
      }
      case 'ram':
        return this.ram(rec.record);
      case 'ram-pages':
        return this.pages(rec);
      case 'section':
        this.entries.push({ type: 'section', section: rec.section });
        return;
      case 'footer':
        this.footer(rec);
        return;
      case 'command':
        this.entries.push(rec);
        return;
      case 'eof':
        if (rec.depth === 0) this.eof = rec;
        return;
      case 'vmdesc':
        this.vmdesc = rec;
        return;
      case 'trailing':
        if (rec.depth === 0) this.trailing = rec;
        else this.entries.push(rec);
        return;
    }
  }

  private footer(f: FooterRecord): void {
    this.footers++;
    if (this.currentRam && this.currentRam.sectionId === f.sectionId && !this.currentRam.footer)
      this.currentRam.footer = { offset: f.offset, sectionId: f.sectionId };
  }

  private ram(r: RamRecord): void {
    const cur = this.currentRam!;
    if (r.kind === 'mem-size') {
      this.totalBytes = r.total;
      for (const b of r.blocks) if (!this.blocks.has(b.name)) this.blocks.set(b.name, summary(b));
    }
    const flags = r.flags;
    cur.recordsByFlags.set(flags, (cur.recordsByFlags.get(flags) ?? 0) + 1);
    this.recordsByFlags.set(flags, (this.recordsByFlags.get(flags) ?? 0) + 1);
    this.records++;
    if (r.kind === 'zero' || r.kind === 'page' || r.kind === 'xbzrle' || r.kind === 'compressed') {
      const b = this.blocks.get(r.block);
      if (b) {
        if (r.kind === 'zero') {
          b.zeroPages++;
          if (r.fill !== 0) b.nonZeroFill++;
        } else if (r.kind === 'page') b.pages++;
        else if (r.kind === 'xbzrle') b.xbzrlePages++;
        else if (r.kind === 'compressed') b.compressedPages++;
      }
    }
    if (r.kind === 'eos') cur.size = r.offset + 8 - cur.offset;
    this.onRam?.(r, this.pageSize);
  }

  private pages(run: RamPagesRecord): void {
    const cur = this.currentRam!;
    for (const [flags, n] of run.byFlags) {
      cur.recordsByFlags.set(flags, (cur.recordsByFlags.get(flags) ?? 0) + n);
      this.recordsByFlags.set(flags, (this.recordsByFlags.get(flags) ?? 0) + n);
    }
    this.records += run.records;
    const b = this.blocks.get(run.block);
    if (!b) return;
    b.zeroPages += run.zeroPages;
    b.nonZeroFill += run.nonZeroFill;
    b.pages += run.pages;
    b.xbzrlePages += run.xbzrlePages;
    b.compressedPages += run.compressedPages;
  }

  finish(walk: WalkSummary): StreamContents {
    return {
      header: this.header!,
      configuration: this.configuration,
      entries: this.entries,
      eof: this.eof,
      vmdesc: this.vmdesc,
      trailing: this.trailing,
      footers: this.footers,
      ram: {
        pageSize: walk.pageSize,
        totalBytes: this.totalBytes,
        blocks: [...this.blocks.values()],
        recordsByFlags: this.recordsByFlags,
        records: this.records,
      },
      walk,
    };
  }
}
