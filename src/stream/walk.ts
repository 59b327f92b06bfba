import type { ByteReader } from '../bytes/reader';
import {
  LimitExceededError,
  MalformedError,
  TruncatedError,
  UnsupportedError,
  placed,
  readingAt,
} from '../errors';
import { MAX_CONFIGURATION_BYTES, decodeConfiguration, hasCapability } from './configuration';
import {
  COMMAND_FIXED_LENGTH,
  COMMAND_NAMES,
  Command,
  DEFAULT_PAGE_SIZE,
  FILE_MAGIC,
  FILE_VERSION,
  FILE_VERSION_COMPAT,
  Limits,
  RAM_IDSTR,
  RAM_VERSION,
  SectionType,
  sectionKindOf,
  type SectionKind,
} from './constants';
import {
  PageTally,
  RamState,
  blockLengthNumber,
  countPages,
  takePages,
  isPageRecord,
  readRamRecord,
} from './ram';
import type { ConfigurationRecord, StreamRecord, StreamVisitor } from './records';
import type { CodecResolver, DeviceSection, SectionCodec, SectionInfo } from './section';
import { sectionPath } from './section';
import { pagesInPlace } from './ram-in-place';
import { bytesSource, type ChunkSource } from './source';
import { lazyBodyOf, vmdescResolver } from './vmdesc-codec';
import type { DescStruct } from './vmdesc-value';
import {
  VmdescIndex,
  locateVmdescFromEnd,
  locateVmdescInBytes,
  parseVmdesc,
  type Vmdesc,
} from './vmdesc';
import { StreamWindow } from './window';

/** Packages inside packages: QEMU never nests them; a few levels are allowed, not thousands. */
const MAX_PACKAGED_DEPTH = 4;

export type StreamLimits = { -readonly [K in keyof typeof Limits]: number };

export interface WalkOptions {
  /** Extra ways to decode device sections (e.g. the device catalog), tried after the vmdesc unless preferResolvers. */
  resolvers?: CodecResolver[];
  preferResolvers?: boolean;
  /** Decode device sections by the stream's vmdesc (default true). */
  useVmdesc?: boolean;
  /** A description to use instead of looking for one in the stream. */
  vmdesc?: Vmdesc;
  /**
   * With `vmdesc`: its marker's offset, when the caller parsed it from this stream's end as the
   * walk does (locateVmdescFromEnd, parseVmdesc). It is then the one found at the end of the
   * file, and the record there is not parsed again.
   */
  vmdescAt?: number;
  /** Target page size, when neither the vmdesc nor the configuration says (default 4096). */
  pageSize?: number;
  /** Delimit sections nothing can decode by their footer and keep them as bytes (default true). */
  opaqueFallback?: boolean;
  /** Whether RAM block entries carry a postcopy page size (default: guess). */
  postcopyPageSizes?: boolean | 'auto';
  /**
   * Keep bytes after EOF that are not a whole VM description (and an unusable description) as a
   * trailing record instead of refusing the stream (default false: a cut or corrupted stream).
   */
  keepTrailing?: boolean;
  /** Called as input arrives, with the absolute offset read so far and the total when known. */
  onProgress?: (offset: number, total?: number) => void;
  limits?: Partial<StreamLimits>;
  /** Told the walker's state before each top-level record and every 8th RAM record. */
  onCheckpoint?: (cp: WalkCheckpoint) => void;
  /**
   * Start from a checkpoint instead of the first record after the head: the stream's bytes up to
   * `cp.pos` must be those of the walk that gave it, with the same options (the fuzz campaign cuts
   * one stream at every offset: what precedes the record of the cut is the same each time). The
   * head (header, configuration, the search for a VM description) is still read; a walk that
   * finds a VM description the checkpointing walk did not have, or the other way, is refused.
   */
  resumeFrom?: WalkCheckpoint;
}

/** What a walk knows between two records (see WalkOptions.onCheckpoint). */
export interface WalkCheckpoint {
  /** Absolute offset of the next record. */
  readonly pos: number;
  readonly hadVmdesc: boolean;
  readonly sections: ReadonlyMap<number, KnownSection>;
  readonly ram?: RamState;
  readonly footersSeen: boolean;
  /** The device sections shown to the resolvers so far, in order (a resolver may learn from them, e.g. the chipset). */
  readonly resolved: readonly { info: SectionInfo; kind: SectionKind }[];
  /** Set inside the RAM section: the section the next RAM record belongs to. */
  readonly inRam?: { kind: SectionKind; offset: number; info: SectionInfo };
}

export interface WalkSummary {
  /** Where the description used for decoding came from. */
  vmdescFrom: 'given' | 'end-of-file' | 'buffered-tail' | 'none';
  /** The description used (if any). */
  vmdesc?: Vmdesc;
  pageSize: number;
  /** Total bytes read. */
  size: number;
  configuration?: ConfigurationRecord;
}

export interface KnownSection {
  info: SectionInfo;
  ram: boolean;
}

/**
 * Walks a whole stream forward, from the magic to the last byte, and hands each record to the
 * visitor. Memory stays bounded: RAM records are read one at a time from a sliding window and
 * device sections (which carry no length) are decoded from a window grown on demand.
 */
export async function walkStream(
  source: ChunkSource,
  visitor: StreamVisitor,
  opts: WalkOptions = {},
): Promise<WalkSummary> {
  const walker = new Walker(source, visitor, opts);
  return walker.run();
}

class Walker {
  private readonly limits: StreamLimits;
  private readonly w: StreamWindow;
  private vmdesc?: VmdescIndex;
  private vmdescFrom: WalkSummary['vmdescFrom'] = 'none';
  private vmdescTried = false;
  /** Offset of the vmdesc found at the end of the file, when that one is in use. */
  private vmdescAt?: number;
  private readonly sections = new Map<number, KnownSection>();
  private ram?: RamState;
  private config?: ConfigurationRecord;
  private footersSeen = false;
  private resolvers: CodecResolver[] = [];
  /** Only kept when checkpoints are asked for. */
  private readonly resolved: { info: SectionInfo; kind: SectionKind }[] = [];

  constructor(
    private readonly source: ChunkSource,
    private readonly visitor: StreamVisitor,
    private readonly opts: WalkOptions,
  ) {
    this.limits = { ...Limits, ...opts.limits };
    this.w = new StreamWindow(source, 0, this.limits.chunkBytes);
    if (opts.onProgress) {
      const cb = opts.onProgress;
      this.w.onChunk = (end) => cb(end, source.size);
    }
  }

  private emit(rec: StreamRecord): void {
    this.visitor.record(rec);
  }

  async run(): Promise<WalkSummary> {
    if (this.opts.vmdesc) {
      const at = this.opts.vmdescAt;
      this.useVmdesc(this.opts.vmdesc, at === undefined ? 'given' : 'end-of-file');
      this.vmdescAt = at;
    } else if (this.opts.useVmdesc !== false && this.source.readAt) {
      this.vmdescTried = true;
      const found = await locateVmdescFromEnd(this.source, this.limits.maxVmdescBytes);
      if (found?.kind === 'truncated' && !this.opts.keepTrailing)
        // The file ends inside its description: refuse now rather than decode what precedes it
        // without one (by a catalog that may not match).
        throw new TruncatedError(found.length, found.available, found.offset + 5, 'vmdesc');
      if (found?.kind === 'found') {
        try {
          this.useVmdesc(parseVmdesc(found.json, found.offset + 5), 'end-of-file');
          this.vmdescAt = found.offset;
        } catch {
          // Not a usable description: walk without it; the record after EOF reports why.
        }
      }
    }
    this.updateResolvers();
    const w = this.w;

    const header = await w.parse(
      (r) => {
        const offset = r.offset;
        const magic = r.u32();
        if (magic !== FILE_MAGIC)
          throw new MalformedError(
            `not a migration stream: magic 0x${magic.toString(16).padStart(8, '0')}, expected 0x5145564d ("QEVM")`,
            offset,
            'header',
          );
        const version = r.u32();
        if (version === FILE_VERSION_COMPAT)
          throw new UnsupportedError(
            'SaveVM v2 format is obsolete (stream version 2, expected 3)',
            offset + 4,
            'header',
          );
        if (version !== FILE_VERSION)
          throw new UnsupportedError(
            `unsupported migration stream version ${version} (expected 3)`,
            offset + 4,
            'header',
          );
        return { type: 'header' as const, offset, magic, version };
      },
      { limit: 8, initial: 8, what: 'header', path: 'header', views: false },
    );
    this.emit(header);

    await w.fill(1);
    if (w.reader().peek() === SectionType.CONFIGURATION) {
      const offset = w.pos;
      const rec = await w.parse(
        (r) => {
          r.u8();
          return decodeConfiguration(r, 0);
        },
        {
          limit: MAX_CONFIGURATION_BYTES,
          initial: MAX_CONFIGURATION_BYTES,
          what: 'configuration section',
          path: 'configuration',
        },
      );
      this.config = { ...rec, offset };
      if (hasCapability(this.config, 'mapped-ram'))
        throw new UnsupportedError(
          'mapped-ram streams (RAM at fixed file offsets) are not supported',
          offset,
          'configuration',
        );
      this.emit(this.config);
    }

    if (this.opts.resumeFrom) await this.resume(w, this.opts.resumeFrom);
    await this.sectionLoop(w, 0);
    await this.tail();
    return {
      vmdescFrom: this.vmdescFrom,
      vmdesc: this.vmdesc?.desc,
      pageSize: this.pageSize(),
      size: w.pos,
      configuration: this.config,
    };
  }

  private checkpoint(pos: number, inRam?: WalkCheckpoint['inRam']): void {
    const ram = this.ram && cloneRamState(this.ram);
    this.opts.onCheckpoint!({
      pos,
      hadVmdesc: !!this.vmdesc,
      sections: new Map(this.sections),
      ram,
      footersSeen: this.footersSeen,
      resolved: this.resolved.slice(),
      inRam,
    });
  }

  /** Takes up a checkpoint's state at its offset (see WalkOptions.resumeFrom). */
  private async resume(w: StreamWindow, cp: WalkCheckpoint): Promise<void> {
    if (cp.hadVmdesc !== !!this.vmdesc || cp.pos < w.pos)
      throw new RangeError('resumeFrom: a checkpoint of another walk');
    if ((await w.fill(cp.pos - w.pos)) < cp.pos - w.pos)
      throw new RangeError(`resumeFrom: the input ends before the checkpoint at ${cp.pos}`);
    w.advance(cp.pos);
    for (const [id, s] of cp.sections) this.sections.set(id, s);
    if (cp.ram) this.ram = cloneRamState(cp.ram);
    this.footersSeen = cp.footersSeen;
    for (const r of cp.resolved) this.resolve(r.info, r.kind);
    if (cp.inRam) await this.ramSection(w, cp.inRam.kind, cp.inRam.offset, cp.inRam.info, 0, true);
  }

  private useVmdesc(desc: Vmdesc, from: WalkSummary['vmdescFrom']): void {
    this.vmdesc = new VmdescIndex(desc);
    this.vmdescFrom = from;
  }

  private updateResolvers(): void {
    const own = this.vmdesc ? [vmdescResolver(this.vmdesc)] : [];
    const extra = this.opts.resolvers ?? [];
    this.resolvers = this.opts.preferResolvers ? [...extra, ...own] : [...own, ...extra];
  }

  private pageSize(): number {
    if (this.opts.pageSize) return this.opts.pageSize;
    if (this.vmdesc?.pageSize) return this.vmdesc.pageSize;
    if (
      this.config?.targetPageBits !== undefined &&
      this.config.targetPageBits >= 9 &&
      this.config.targetPageBits <= 30
    )
      return 2 ** this.config.targetPageBits;
    return DEFAULT_PAGE_SIZE;
  }

  /** Reads records until (and including) an EOF byte. */
  private async sectionLoop(w: StreamWindow, depth: number): Promise<void> {
    for (;;) {
      const offset = w.pos;
      if (depth === 0 && this.opts.onCheckpoint) this.checkpoint(offset);
      if ((await w.fill(1)) === 0)
        throw new TruncatedError(
          1,
          0,
          offset,
          depth ? 'packaged' : 'expecting a section type or EOF',
        );
      const type = w.reader().peek()!;
      const kind = sectionKindOf(type);
      if (type === SectionType.EOF) {
        w.advance(offset + 1);
        this.emit({ type: 'eof', offset, depth });
        return;
      } else if (kind === 'start' || kind === 'full') {
        const h = await w.parse(
          (r) => {
            r.u8();
            const sectionId = r.u32();
            const idstr = r.countedString();
            const instanceId = r.u32();
            const versionId = r.u32();
            return { sectionId, idstr, instanceId, versionId };
          },
          {
            limit: 1024,
            initial: 300,
            what: 'section header',
            path: `section header at 0x${offset.toString(16)}`,
            views: false,
          },
        );
        const isRam = h.idstr === RAM_IDSTR;
        this.sections.set(h.sectionId, { info: h, ram: isRam });
        if (isRam) await this.ramSection(w, kind, offset, h, depth);
        else await this.deviceSection(w, kind, offset, h, depth);
      } else if (kind === 'part' || kind === 'end') {
        const sectionId = await w.parse(
          (r) => {
            r.u8();
            return r.u32();
          },
          {
            limit: 5,
            initial: 5,
            what: 'section header',
            path: `section header at 0x${offset.toString(16)}`,
            views: false,
          },
        );
        const known = this.sections.get(sectionId);
        if (!known)
          throw new MalformedError(
            `${kind.toUpperCase()} record for unknown section id ${sectionId}`,
            offset,
            `section ${sectionId}`,
          );
        if (known.ram) await this.ramSection(w, kind, offset, known.info, depth);
        else await this.deviceSection(w, kind, offset, known.info, depth);
      } else if (type === SectionType.COMMAND) {
        await this.command(w, offset, depth);
      } else {
        const what =
          type === SectionType.FOOTER
            ? 'a section footer (0x7e) where a section type was expected'
            : type === SectionType.SUBSECTION
              ? 'a subsection (0x05) at section level'
              : type === SectionType.VMDESCRIPTION
                ? 'a VM description (0x06) before EOF'
                : type === SectionType.CONFIGURATION
                  ? 'a configuration section (0x07) after the first section'
                  : `unknown section type 0x${type.toString(16).padStart(2, '0')}`;
        throw new MalformedError(
          `${what}; expected a section type (0x01-0x04, 0x08) or EOF (0x00)`,
          offset,
          '',
        );
      }
    }
  }

  private async ramSection(
    w: StreamWindow,
    kind: SectionKind,
    offset: number,
    info: SectionInfo,
    depth: number,
    resumed = false,
  ): Promise<void> {
    if (info.versionId !== RAM_VERSION)
      throw new UnsupportedError(
        `RAM section version ${info.versionId} (only ${RAM_VERSION} exists)`,
        offset,
        sectionPath(info),
      );
    if (!this.ram) {
      this.ram = new RamState(
        this.pageSize(),
        hasCapability(this.config, 'x-ignore-shared'),
        this.opts.postcopyPageSizes ?? 'auto',
        this.limits.maxRamBlocks,
      );
    }
    const ram = this.ram;
    if (!resumed)
      this.emit({ type: 'ram-section', kind, offset, depth, pageSize: ram.pageSize, ...info });
    const checkpoints = depth === 0 && !!this.opts.onCheckpoint;
    if (this.visitor.ramPages === 'runs')
      await this.ramRuns(w, kind, offset, info, depth, ram, checkpoints);
    else await this.ramRecords(w, kind, offset, info, depth, ram, checkpoints);
    await this.footer(w, info, depth);
  }

  /** A RAM section's records, each handed to the visitor (StreamVisitor.ramPages 'records'). */
  private async ramRecords(
    w: StreamWindow,
    kind: SectionKind,
    offset: number,
    info: SectionInfo,
    depth: number,
    ram: RamState,
    checkpoints: boolean,
  ): Promise<void> {
    const path = sectionPath(info);
    let records = 0;
    const batch = Math.max(65536, ram.pageSize * 4);
    // Room for any page record (header, block name, a page or its compressed form): with less
    // left, refill first instead of failing at the window's end and reading the record again.
    const roomy = 2 * ram.pageSize + 4096;
    for (let eos = false; !eos;) {
      await w.fill(batch);
      const r = w.reader();
      try {
        while (!eos) {
          if (r.remaining < roomy && !w.ended && w.available < this.limits.maxSectionBytes) {
            await this.visitor.drain?.();
            await w.fill(w.available + batch);
            break;
          }
          if (checkpoints && (records++ & 7) === 7) this.checkpoint(w.pos, { kind, offset, info });
          const rec = readRamRecord(r, ram, path);
          ram.apply(rec);
          w.advance(r.offset);
          this.emit({ type: 'ram', record: rec, depth });
          eos = rec.kind === 'eos';
        }
      } catch (e) {
        if (!(e instanceof TruncatedError) || w.ended) throw placed(e, path);
        // One record never needs much; only a hostile block list could ask for more.
        if (w.available >= this.limits.maxSectionBytes)
          throw new LimitExceededError(
            'RAM record',
            w.available,
            this.limits.maxSectionBytes,
            w.pos,
            path,
          );
        await this.visitor.drain?.();
        await w.fill(grownFor(w.available, batch, this.limits.maxSectionBytes));
      }
    }
  }

  /**
   * A RAM section's records with pages counted in runs (StreamVisitor.ramPages 'runs'): the
   * pages countPages takes are stepped over; every other record is read by readRamRecord, so
   * errors are those of ramRecords. A run ends at a record that is not a page, at a page of
   * another block, and before each refill (so a visitor's drain sees every page read so far).
   */
  private async ramRuns(
    w: StreamWindow,
    kind: SectionKind,
    offset: number,
    info: SectionInfo,
    depth: number,
    ram: RamState,
    checkpoints: boolean,
  ): Promise<void> {
    const path = sectionPath(info);
    const max = this.limits.maxSectionBytes;
    let records = 0;
    // Smaller only with a smaller read size (a test of window ends).
    const batch = Math.max(Math.min(65536, this.limits.chunkBytes), ram.pageSize * 4);
    const roomy = 2 * ram.pageSize + 4096;
    const pageBytes = this.visitor.pageBytes;
    let tally: PageTally | undefined;
    let block = '';
    let blockLength = 0;
    let runFrom = 0;
    /** Hands the pages counted up to `end` to the visitor and marks them consumed. */
    const endRun = (end: number) => {
      w.advance(end);
      if (!tally) return;
      const counts = tally.counts();
      tally = undefined;
      this.emit({ type: 'ram-pages', offset: runFrom, end, block, depth, ...counts });
    };
    for (let eos = false; !eos;) {
      await w.fill(batch);
      const r = w.reader();
      const b = r.bytes;
      let at = r.offset;
      try {
        while (!eos) {
          at = r.offset;
          const whole = w.ended || r.remaining >= max;
          if (r.remaining < roomy && !whole) {
            // A run that goes on past the window, in a big file: the rest through its mapping.
            const file = tally && !checkpoints ? w.pages : undefined;
            if (
              file &&
              file.size - at >= this.limits.inPlaceMinBytes &&
              (!pageBytes || pageBytes.filePages)
            )
              for (let more = true; more;) {
                const step = pagesInPlace(
                  file,
                  at,
                  ram.pageSize,
                  blockLength,
                  block,
                  tally!,
                  pageBytes,
                );
                more = step.more;
                if (step.to === at) break;
                w.skipTo((at = step.to));
                await this.visitor.drain?.();
              }
            endRun(at);
            await this.visitor.drain?.();
            await w.fill(w.available + batch);
            break;
          }
          if (checkpoints) {
            if ((records++ & 63) === 63) {
              endRun(at);
              this.checkpoint(at, { kind, offset, info });
            }
          } else if (tally) {
            // With room for any record left, a record starting before `stop` is whole in b.
            const stop = whole ? b.length : b.length - roomy;
            const pos = pageBytes
              ? takePages(
                  b,
                  r.pos,
                  stop,
                  ram.pageSize,
                  blockLength,
                  tally,
                  (addr, from, count) => pageBytes.pages(block, addr, b, from, count),
                  (addr) => pageBytes.zeroPage(block, addr),
                )
              : countPages(b, r.pos, stop, ram.pageSize, blockLength, tally);
            if (pos !== r.pos) {
              r.pos = pos;
              continue;
            }
          }
          const rec = readRamRecord(r, ram, path);
          ram.apply(rec);
          if (isPageRecord(rec)) {
            if (!tally || rec.block !== block) {
              endRun(at);
              tally = new PageTally();
              runFrom = at;
              block = rec.block;
              blockLength = blockLengthNumber(ram.blocks.get(block)!);
            }
            tally.add(rec);
            pageBytes?.pageRecord(rec);
          } else {
            endRun(at);
            w.advance(r.offset);
            this.emit({ type: 'ram', record: rec, depth });
            eos = rec.kind === 'eos';
          }
        }
      } catch (e) {
        // The pages before the record that failed were read whole: the visitor gets them first
        // (unless the record was consumed already and it is the visitor that threw).
        if (at >= w.pos) endRun(at);
        if (!(e instanceof TruncatedError) || w.ended) throw placed(e, path);
        if (w.available >= max)
          throw new LimitExceededError('RAM record', w.available, max, w.pos, path);
        await this.visitor.drain?.();
        await w.fill(grownFor(w.available, batch, max));
      }
    }
  }

  private resolve(info: SectionInfo, kind: SectionKind): SectionCodec | undefined {
    if (this.opts.onCheckpoint) this.resolved.push({ info, kind });
    for (const res of this.resolvers) {
      const c = res(info, kind);
      if (c) return c;
    }
    return undefined;
  }

  /** For a non-seekable input, buffers what is left (small once device sections start) to find its vmdesc. */
  private async lookAheadForVmdesc(w: StreamWindow): Promise<void> {
    if (this.vmdescTried || this.opts.useVmdesc === false) return;
    this.vmdescTried = true;
    await w.fill(this.limits.maxLookaheadBytes);
    if (!w.ended) return;
    const r = w.reader();
    const found = locateVmdescInBytes(r.bytes, r.base);
    if (found?.kind === 'truncated' && !this.opts.keepTrailing)
      throw new TruncatedError(found.length, found.available, found.offset + 5, 'vmdesc');
    if (found?.kind !== 'found') return;
    try {
      this.useVmdesc(parseVmdesc(found.json, found.offset + 5), 'buffered-tail');
      this.updateResolvers();
    } catch {
      // unusable; sections fall back to other decoders
    }
  }

  private async deviceSection(
    w: StreamWindow,
    kind: SectionKind,
    offset: number,
    info: SectionInfo,
    depth: number,
  ): Promise<void> {
    if (!this.vmdesc && (kind === 'full' || kind === 'start')) await this.lookAheadForVmdesc(w);
    const path = sectionPath(info);
    const bodyOffset = w.pos;
    const codec = this.resolve(info, kind);
    let section: DeviceSection;
    if (codec) {
      const { value, body } = await w.parse(
        (r) => {
          const start = r.pos;
          const value = codec.decode(r, info);
          // A vmdesc-decoded struct whose entries are still unread holds a copy of these very bytes.
          const kept = isLazy(value) ? lazyBodyOf(value)?.bytes : undefined;
          return {
            value,
            body: kept?.length === r.pos - start ? kept : r.bytes.slice(start, r.pos),
          };
        },
        { limit: this.limits.maxSectionBytes, what: `section ${path}`, path },
      );
      section = {
        ...info,
        kind,
        offset,
        bodyOffset,
        body,
        decodedBy: codec.name,
        value,
        codec,
        depth,
      };
    } else {
      const body = await this.opaqueBody(w, info, offset, path);
      section = { ...info, kind, offset, bodyOffset, body, decodedBy: 'opaque', depth };
    }
    const footer = await this.footer(w, info, depth, true);
    if (footer) section.footer = footer;
    this.emit({ type: 'section', section });
    if (footer) this.emit({ type: 'footer', depth, ...footer });
  }

  /** A section nothing can decode: its end is the first footer for its id that is followed by a plausible record. */
  private async opaqueBody(
    w: StreamWindow,
    info: SectionInfo,
    offset: number,
    path: string,
  ): Promise<Uint8Array> {
    if (this.opts.opaqueFallback === false || (!this.footersSeen && !this.config))
      throw new UnsupportedError(
        this.vmdesc
          ? `section '${info.idstr}' instance ${info.instanceId} is not in the VM description and no other decoder knows it`
          : 'no VM description in the stream and no decoder for this section (its length is not on the wire)',
        offset,
        path,
      );
    const id = info.sectionId;
    const pattern = [
      SectionType.FOOTER,
      id >>> 24,
      (id >>> 16) & 0xff,
      (id >>> 8) & 0xff,
      id & 0xff,
    ];
    return w.parse(
      (r: ByteReader) => {
        const b = r.bytes;
        for (let i = r.pos; ; i++) {
          i = b.indexOf(SectionType.FOOTER, i);
          if (i < 0 || i + 6 > b.length) {
            r.pos = b.length;
            // grow the window, or report truncation at the end of input
            readingAt(`${path} (no decoder: looking for its footer)`, () => r.need(6));
          }
          if (pattern.every((v, k) => b[i + k] === v) && isPlausibleRecordStart(b[i + 5])) {
            const body = b.slice(r.pos, i);
            r.pos = i;
            return body;
          }
        }
      },
      {
        limit: this.limits.maxSectionBytes,
        what: `section ${path} (searching for its footer)`,
        path,
      },
    );
  }

  /** Reads the footer after a section if there is one; once footers were seen, a missing one is an error. */
  private async footer(
    w: StreamWindow,
    info: SectionInfo,
    depth: number,
    quiet = false,
  ): Promise<{ offset: number; sectionId: number } | undefined> {
    await w.fill(5);
    const offset = w.pos;
    const r = w.reader();
    const path = sectionPath(info);
    if (r.peek() !== SectionType.FOOTER) {
      if (this.footersSeen) {
        const found = r.peek();
        throw new MalformedError(
          `missing section footer for section ${info.sectionId} ('${info.idstr}'): expected 0x7e, found ${found === undefined ? 'end of input' : `0x${found.toString(16).padStart(2, '0')}`}`,
          offset,
          path,
        );
      }
      return undefined;
    }
    const id = readingAt(`${path} footer`, () => {
      r.u8();
      return r.u32();
    });
    if (id !== info.sectionId)
      throw new MalformedError(
        `mismatched section id in footer for '${info.idstr}': read 0x${id.toString(16)}, expected 0x${info.sectionId.toString(16)}`,
        offset,
        path,
      );
    w.advance(r.offset);
    this.footersSeen = true;
    const f = { offset, sectionId: id };
    if (!quiet) this.emit({ type: 'footer', depth, ...f });
    return f;
  }

  private async command(w: StreamWindow, offset: number, depth: number): Promise<void> {
    const c = await w.parse(
      (r) => {
        r.u8();
        const cmd = r.u16();
        const len = r.u16();
        const name = COMMAND_NAMES[cmd];
        if (!name)
          throw new MalformedError(
            `unknown command MIG_CMD 0x${cmd.toString(16)}`,
            offset,
            'command',
          );
        const fixed = COMMAND_FIXED_LENGTH[cmd];
        if (fixed !== undefined && fixed !== len)
          throw new MalformedError(
            `command ${name} with length ${len}, expected ${fixed}`,
            offset,
            `command ${name}`,
          );
        const payload = readingAt(`command ${name}`, () => r.bytesCopy(len));
        return { cmd, name, payload };
      },
      { limit: 70000, initial: 16, what: 'command', path: 'command', views: false },
    );
    if (c.cmd !== Command.PACKAGED) {
      this.emit({ type: 'command', offset, depth, ...c });
      return;
    }
    // QEMU sends one level (postcopy's package of device state); each level here costs a window.
    if (depth >= MAX_PACKAGED_DEPTH)
      throw new LimitExceededError(
        'PACKAGED nesting depth',
        depth + 1,
        MAX_PACKAGED_DEPTH,
        offset,
        'command PACKAGED',
      );
    const p = c.payload;
    const size = ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
    if (size > this.limits.maxPackagedBytes)
      throw new LimitExceededError(
        'PACKAGED command blob',
        size,
        this.limits.maxPackagedBytes,
        offset,
        'command PACKAGED',
      );
    this.emit({ type: 'command', offset, depth, ...c, packagedSize: size });
    const blobOffset = w.pos;
    const blob = await w.take(size, 'command PACKAGED');
    const inner = new StreamWindow(bytesSource(blob), blobOffset);
    await this.sectionLoop(inner, depth + 1);
    if (inner.pos < blobOffset + size) {
      const rest = await inner.take(blobOffset + size - inner.pos);
      this.emit({
        type: 'trailing',
        offset: inner.pos - rest.length,
        data: rest,
        depth: depth + 1,
      });
    }
  }

  /** After the top-level EOF: the VM description, then anything else. */
  private async tail(): Promise<void> {
    const w = this.w;
    if ((await w.fill(1)) === 0) return;
    const offset = w.pos;
    if (w.reader().peek() === SectionType.VMDESCRIPTION) {
      const len = await w.parse(
        (r) => {
          r.u8();
          return r.u32();
        },
        { limit: 5, initial: 5, what: 'vmdesc header', views: false },
      );
      if (len > this.limits.maxVmdescBytes)
        throw new LimitExceededError(
          'VM description',
          len,
          this.limits.maxVmdescBytes,
          offset,
          'vmdesc',
        );
      const json = await w.take(len, 'vmdesc');
      let desc: Vmdesc | undefined;
      let error: string | undefined;
      try {
        // Already parsed from the end of the file before the walk: the same bytes, parsed once.
        desc =
          this.vmdescAt === offset && this.vmdesc
            ? this.vmdesc.desc
            : parseVmdesc(json, offset + 5);
      } catch (e) {
        // A description that does not parse is a damaged one (a cut or a corrupted length).
        if (!this.opts.keepTrailing) throw e;
        error = (e as Error).message;
      }
      this.emit({ type: 'vmdesc', offset, json, desc, error });
    }
    const at = w.pos;
    await w.fill(this.limits.maxTrailingBytes + 1);
    if (w.available > this.limits.maxTrailingBytes)
      throw new LimitExceededError(
        'data after the end of the stream',
        w.available,
        this.limits.maxTrailingBytes,
        at,
        'trailing',
      );
    if (w.available > 0 && !this.opts.keepTrailing)
      throw new MalformedError(
        `${w.available} byte(s) after the end of the stream that are not a VM description ` +
          `(the stream is damaged, or a section was decoded with the wrong layout; --keep-trailing keeps them)`,
        at,
        offset === at ? 'after EOF' : 'after the VM description',
      );
    if (w.available > 0)
      this.emit({ type: 'trailing', offset: at, data: await w.take(w.available), depth: 0 });
  }
}

/**
 * The window a RAM record that did not fit in `available` bytes is read again from: twice as
 * large (a long block list is read a logarithmic number of times, not once per batch), at most
 * `max` (the next failure there is the limit's error).
 */
function grownFor(available: number, batch: number, max: number): number {
  return Math.min(max, Math.max(2 * available, available + batch));
}

function cloneRamState(s: RamState): RamState {
  const c = new RamState(s.pageSize, s.ignoreShared, s.postcopyPageSizes, s.maxBlocks);
  c.blocks = new Map(s.blocks);
  c.blockOrder = s.blockOrder.slice();
  c.lastBlock = s.lastBlock;
  return c;
}

function isLazy(v: unknown): v is DescStruct {
  return typeof v === 'object' && v !== null && (v as DescStruct).kind === 'struct';
}

/** Bytes that can follow a footer: a section type, a command or EOF (end of input is checked by the caller). */
function isPlausibleRecordStart(b: number): boolean {
  return b <= SectionType.FULL || b === SectionType.COMMAND;
}
