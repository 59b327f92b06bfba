import type { ByteReader } from '../bytes/reader';
import type { ByteWriter } from '../bytes/writer';
import { LimitExceededError, MalformedError, UnsupportedError } from '../errors';
import { Limits, RamFlag } from './constants';

/** One RAMBlock of the START section's block list. */
export interface RamBlockInfo {
  name: string;
  length: bigint;
  /** Present when postcopy-ram is on and the block's page size differs from the host's. */
  pageSize?: bigint;
  /** Present when the x-ignore-shared capability is on. */
  mrAddr?: bigint;
}

interface RecordBase {
  /** Absolute offset of the record's be64. */
  offset: number;
  /**
   * The be64 exactly as read: address (or total size) | flags. A number: values of 2^53 and
   * more are refused (no RAM is that large), which keeps the per-page path free of BigInt.
   */
  raw: number;
  /** The flag bits (below the target page size). */
  flags: number;
}

interface PageRecordBase extends RecordBase {
  /** Offset within the block. */
  addr: number;
  block: string;
  /** True when the block name is on the wire (CONTINUE clear). */
  named: boolean;
  /** Whether CONTINUE was set. */
  continued: boolean;
}

export type RamRecord =
  | (RecordBase & { kind: 'mem-size'; total: number; blocks: RamBlockInfo[] })
  | (PageRecordBase & { kind: 'zero'; fill: number })
  /** `data` is a view into the input window, valid only while the record is being handled: copy it to keep it. */
  | (PageRecordBase & { kind: 'page'; data: Uint8Array })
  | (PageRecordBase & { kind: 'xbzrle'; encoding: number; data: Uint8Array })
  | (PageRecordBase & { kind: 'compressed'; data: Uint8Array })
  | (RecordBase & { kind: 'eos' })
  | (RecordBase & { kind: 'multifd-flush' });

/** What the RAM loader must remember between records and sections. */
export class RamState {
  blocks = new Map<string, RamBlockInfo>();
  blockOrder: RamBlockInfo[] = [];
  lastBlock: string | undefined;
  constructor(
    readonly pageSize: number,
    /** x-ignore-shared: each block entry carries be64 mr->addr. */
    readonly ignoreShared: boolean,
    /** Whether block entries carry a postcopy page size: true, false, or guess from the value. */
    readonly postcopyPageSizes: boolean | 'auto',
    /** Blocks the stream may list in all (Limits.maxRamBlocks). */
    readonly maxBlocks: number = Limits.maxRamBlocks,
  ) {}

  /** Records the effect of a record (after it was read whole). */
  apply(rec: RamRecord): void {
    if (rec.kind === 'mem-size') {
      for (const b of rec.blocks) {
        if (!this.blocks.has(b.name)) this.blockOrder.push(b);
        this.blocks.set(b.name, b);
      }
    } else if (isPageRecord(rec)) {
      this.lastBlock = rec.block;
    }
  }
}

/** A page record: one page of a block (zero, data, XBZRLE or compressed). */
export type PageRecord = Extract<RamRecord, { block: string }>;

export function isPageRecord(rec: RamRecord): rec is PageRecord {
  return (
    rec.kind === 'zero' || rec.kind === 'page' || rec.kind === 'xbzrle' || rec.kind === 'compressed'
  );
}

/** What a run of page records of one block amounts to, without the records (see countPages). */
export interface PageCounts {
  /** Page records in the run. */
  records: number;
  zeroPages: number;
  /** Zero-page records whose fill byte is not 0. */
  nonZeroFill: number;
  pages: number;
  xbzrlePages: number;
  compressedPages: number;
  /** Records by the flags of their be64, in the order each value first occurs. */
  byFlags: Map<number, number>;
}

/** Counts page records as they are read, by kind and by flags (see countPages for the fast part). */
export class PageTally {
  zeroPages = 0;
  nonZeroFill = 0;
  pages = 0;
  xbzrlePages = 0;
  compressedPages = 0;
  /** Flags of the latest records and how many in a row: added to byFlags when the flags change. */
  streakFlags = -1;
  streakCount = 0;
  private readonly byFlags = new Map<number, number>();
  private total = 0;

  /** A record read by readRamRecord. */
  add(rec: PageRecord): void {
    if (rec.kind === 'zero') {
      this.zeroPages++;
      if (rec.fill !== 0) this.nonZeroFill++;
    } else if (rec.kind === 'page') this.pages++;
    else if (rec.kind === 'xbzrle') this.xbzrlePages++;
    else this.compressedPages++;
    this.flags(rec.flags, 1);
  }

  /** Adds n records of these flags (countPages keeps its streak in locals and hands it back here). */
  flags(flags: number, n: number): void {
    if (flags !== this.streakFlags) {
      this.endStreak();
      this.streakFlags = flags;
    }
    this.streakCount += n;
  }

  private endStreak(): void {
    if (this.streakCount === 0) return;
    const f = this.streakFlags;
    this.byFlags.set(f, (this.byFlags.get(f) ?? 0) + this.streakCount);
    this.total += this.streakCount;
    this.streakCount = 0;
  }

  counts(): PageCounts {
    this.endStreak();
    return {
      records: this.total,
      zeroPages: this.zeroPages,
      nonZeroFill: this.nonZeroFill,
      pages: this.pages,
      xbzrlePages: this.xbzrlePages,
      compressedPages: this.compressedPages,
      byFlags: this.byFlags,
    };
  }
}

const PAGE_CONTINUE = RamFlag.PAGE | RamFlag.CONTINUE;
const ZERO_CONTINUE = RamFlag.ZERO | RamFlag.CONTINUE;

/**
 * The page-skipping path: counts the records from `p` on that are a data or zero page of the
 * block the previous record named (CONTINUE set), inside it (`blockLength`, bytes), and whole in
 * `b`, starting at or before `stop`; returns where the first other record starts. It builds no
 * object and copies no page: a page is 8 + pageSize bytes stepped over. Whatever it does not
 * take (a named page, XBZRLE, a bad address, flags it does not know, a record cut by the end of
 * `b`) is left for readRamRecord, which reads it, or refuses it with its own error, offset and path.
 */
export function countPages(
  b: Uint8Array,
  p: number,
  stop: number,
  pageSize: number,
  blockLength: number,
  t: PageTally,
): number {
  const mask = pageSize - 1;
  const pageRecord = 8 + pageSize;
  const end = b.length;
  let flagsNow = t.streakFlags;
  let n = 0;
  let pages = 0;
  let zeros = 0;
  let nonZeroFill = 0;
  while (p <= stop && p + 9 <= end) {
    const hi = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
    if (hi >= 0x200000) break;
    const lo = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
    const flags = lo & mask;
    if (hi * 0x100000000 + (lo - flags) >= blockLength) break;
    if (flags === PAGE_CONTINUE) {
      if (p + pageRecord > end) break;
      pages++;
      p += pageRecord;
    } else if (flags === ZERO_CONTINUE) {
      zeros++;
      if (b[p + 8] !== 0) nonZeroFill++;
      p += 9;
    } else break;
    if (flags !== flagsNow) {
      if (n > 0) t.flags(flagsNow, n);
      flagsNow = flags;
      n = 0;
    }
    n++;
  }
  if (n > 0) t.flags(flagsNow, n);
  t.pages += pages;
  t.zeroPages += zeros;
  t.nonZeroFill += nonZeroFill;
  return p;
}

/**
 * countPages for a visitor that also writes the pages (StreamVisitor.pageBytes): the same walk
 * and counts, with each stretch of raw pages at consecutive addresses handed to `sink` (its
 * first address, the offset in `b` of its first record, how many), and each zero page of fill 0
 * to `zero` (after the stretch before it: a zero page clears a page that holds data). A zero page
 * whose fill is not 0 is left for readRamRecord, so that its bytes can be written too.
 */
export function takePages(
  b: Uint8Array,
  p: number,
  stop: number,
  pageSize: number,
  blockLength: number,
  t: PageTally,
  sink: (addr: number, from: number, count: number) => void,
  zero: (addr: number) => void,
): number {
  const mask = pageSize - 1;
  const pageRecord = 8 + pageSize;
  const end = b.length;
  let flagsNow = t.streakFlags;
  let n = 0;
  let pages = 0;
  let zeros = 0;
  let runFrom = 0;
  let runAddr = 0;
  let runCount = 0;
  while (p <= stop && p + 9 <= end) {
    const hi = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
    if (hi >= 0x200000) break;
    const lo = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
    const flags = lo & mask;
    const addr = hi * 0x100000000 + (lo - flags);
    if (addr >= blockLength) break;
    if (flags === PAGE_CONTINUE) {
      if (p + pageRecord > end) break;
      if (runCount > 0 && addr === runAddr + runCount * pageSize) runCount++;
      else {
        if (runCount > 0) sink(runAddr, runFrom, runCount);
        runFrom = p;
        runAddr = addr;
        runCount = 1;
      }
      pages++;
      p += pageRecord;
    } else if (flags === ZERO_CONTINUE && b[p + 8] === 0) {
      // A stretch is records at a fixed stride: a zero page (9 bytes) between two pages ends it.
      if (runCount > 0) sink(runAddr, runFrom, runCount);
      runCount = 0;
      zero(addr);
      zeros++;
      p += 9;
    } else break;
    if (flags !== flagsNow) {
      if (n > 0) t.flags(flagsNow, n);
      flagsNow = flags;
      n = 0;
    }
    n++;
  }
  if (runCount > 0) sink(runAddr, runFrom, runCount);
  if (n > 0) t.flags(flagsNow, n);
  t.pages += pages;
  t.zeroPages += zeros;
  return p;
}

/** A block's length as a number, exact for every address below 2^53 (the only ones records carry). */
export function blockLengthNumber(info: RamBlockInfo): number {
  return info.length >= 1n << 53n ? Infinity : Number(info.length);
}

/** compressBound() of zlib for one page: the largest COMPRESS_PAGE payload QEMU accepts. */
export function compressBound(n: number): number {
  return n + (n >>> 12) + (n >>> 14) + (n >>> 25) + 13;
}

/**
 * Reads one RAM record. Pure with respect to `state` (call state.apply after), so a record cut by
 * the end of the window can be read again once more input is in.
 */
export function readRamRecord(r: ByteReader, state: RamState, path: string): RamRecord {
  const offset = r.offset;
  const hi = r.u32();
  const lo = r.u32();
  if (hi >= 0x200000)
    throw new MalformedError(
      `RAM record 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}: address or size of 2^53 or more`,
      offset,
      path,
    );
  const raw = hi * 0x100000000 + lo;
  const flags = lo & (state.pageSize - 1);
  const addr = raw - flags;
  const base = flags & ~RamFlag.CONTINUE;
  switch (base) {
    case RamFlag.MEM_SIZE:
      return {
        kind: 'mem-size',
        offset,
        raw,
        flags,
        total: addr,
        blocks: readBlockList(r, state, BigInt(addr), path),
      };
    case RamFlag.EOS:
      if (flags !== RamFlag.EOS) break;
      return { kind: 'eos', offset, raw, flags };
    case RamFlag.MULTIFD_FLUSH:
      if (flags !== RamFlag.MULTIFD_FLUSH) break;
      return { kind: 'multifd-flush', offset, raw, flags };
    case RamFlag.HOOK:
      throw new UnsupportedError('RAM_SAVE_FLAG_HOOK (RDMA) record in a stream', offset, path);
    case RamFlag.ZERO:
    case RamFlag.PAGE:
    case RamFlag.XBZRLE:
    case RamFlag.COMPRESS_PAGE: {
      const continued = (flags & RamFlag.CONTINUE) !== 0;
      let block: string;
      if (continued) {
        if (state.lastBlock === undefined)
          throw new MalformedError('RAM page with CONTINUE but no previous block', offset, path);
        block = state.lastBlock;
      } else {
        block = r.countedString();
        if (!state.blocks.has(block))
          throw new MalformedError(`unknown RAM block '${block}'`, offset, path);
      }
      const info = state.blocks.get(block)!;
      if (addr >= info.length)
        throw new MalformedError(
          `RAM offset 0x${addr.toString(16)} outside block '${block}' (length 0x${info.length.toString(16)})`,
          offset,
          `${path} > ${block}`,
        );
      const named = !continued;
      if (base === RamFlag.ZERO)
        return { kind: 'zero', offset, raw, flags, addr, block, named, continued, fill: r.u8() };
      if (base === RamFlag.PAGE)
        return {
          kind: 'page',
          offset,
          raw,
          flags,
          addr,
          block,
          named,
          continued,
          data: r.bytesView(state.pageSize),
        };
      if (base === RamFlag.XBZRLE) {
        const encoding = r.u8();
        if (encoding !== 0x01)
          throw new MalformedError(
            `XBZRLE page with encoding flag 0x${encoding.toString(16)} (expected 0x01)`,
            offset,
            path,
          );
        const len = r.u16();
        if (len > state.pageSize)
          throw new MalformedError(
            `XBZRLE page of ${len} bytes is larger than a page`,
            offset,
            path,
          );
        return {
          kind: 'xbzrle',
          offset,
          raw,
          flags,
          addr,
          block,
          named,
          continued,
          encoding,
          data: r.bytesView(len),
        };
      }
      const len = r.u32();
      if (len > compressBound(state.pageSize))
        throw new MalformedError(
          `compressed page of ${len} bytes exceeds compressBound(page size)`,
          offset,
          path,
        );
      return {
        kind: 'compressed',
        offset,
        raw,
        flags,
        addr,
        block,
        named,
        continued,
        data: r.bytesView(len),
      };
    }
  }
  throw new MalformedError(
    `unknown combination of RAM flags 0x${flags.toString(16)}`,
    offset,
    path,
  );
}

function readBlockList(
  r: ByteReader,
  state: RamState,
  total: bigint,
  path: string,
): RamBlockInfo[] {
  const blocks: RamBlockInfo[] = [];
  let left = total;
  while (left > 0n) {
    const at = r.offset;
    const name = r.countedString();
    if (name.length === 0) throw new MalformedError('RAM block with an empty name', at, path);
    if (blocks.length + state.blocks.size >= state.maxBlocks && !state.blocks.has(name))
      throw new LimitExceededError(
        'RAM block list',
        blocks.length + state.blocks.size + 1,
        state.maxBlocks,
        at,
        path,
        'blocks',
      );
    const length = r.u64();
    if (length > left)
      throw new MalformedError(
        `RAM block '${name}' length 0x${length.toString(16)} exceeds the 0x${left.toString(16)} bytes left of the total`,
        at,
        path,
      );
    left -= length;
    const b: RamBlockInfo = { name, length };
    if (hasPostcopyPageSize(r, state)) b.pageSize = r.u64();
    if (state.ignoreShared) b.mrAddr = r.u64();
    blocks.push(b);
  }
  return blocks;
}

/**
 * Whether a postcopy page size follows a block entry. It is only on the wire when postcopy-ram
 * is on and the block uses huge pages, which the stream does not announce; in 'auto' mode a be64
 * that is a power of two of at least a target page (so no flag bits, hence not a record, and not
 * a name length byte) is taken as one.
 */
function hasPostcopyPageSize(r: ByteReader, state: RamState): boolean {
  if (state.postcopyPageSizes !== 'auto') return state.postcopyPageSizes;
  if (state.ignoreShared) return false;
  const b = r.bytes;
  const i = r.pos;
  if (i + 8 > b.length) {
    r.need(8); // more input may settle it
    return false;
  }
  // Two halves as numbers (no BigInt per block: a block list may be long).
  const hi = ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
  const lo = ((b[i + 4] << 24) | (b[i + 5] << 16) | (b[i + 6] << 8) | b[i + 7]) >>> 0;
  // A power of two in [pageSize, 2^40]: in the low half, or 2^32..2^40 in the high half.
  if (hi === 0) return powerOfTwo(lo) && lo >= state.pageSize;
  return lo === 0 && hi <= 0x100 && powerOfTwo(hi);
}

function powerOfTwo(x: number): boolean {
  return x !== 0 && (x & (x - 1)) === 0;
}

/** Writes a record back exactly as it was read. */
export function writeRamRecord(w: ByteWriter, rec: RamRecord): void {
  w.u32(Math.floor(rec.raw / 0x100000000));
  w.u32(rec.raw >>> 0);
  switch (rec.kind) {
    case 'mem-size':
      for (const b of rec.blocks) {
        w.countedString(b.name);
        w.u64(b.length);
        if (b.pageSize !== undefined) w.u64(b.pageSize);
        if (b.mrAddr !== undefined) w.u64(b.mrAddr);
      }
      return;
    case 'eos':
    case 'multifd-flush':
      return;
    case 'zero':
    case 'page':
    case 'xbzrle':
    case 'compressed':
      break; // a page record: the block name, then its payload below
  }
  if (rec.named) w.countedString(rec.block);
  switch (rec.kind) {
    case 'zero':
      return w.u8(rec.fill);
    case 'page':
      return w.bytes(rec.data);
    case 'xbzrle':
      w.u8(rec.encoding);
      w.u16(rec.data.length);
      return w.bytes(rec.data);
    case 'compressed':
      w.u32(rec.data.length);
      return w.bytes(rec.data);
  }
}

/** The flag names of a record's be64, e.g. `ZERO|CONTINUE`, for display. */
export function ramRecordFlagsName(flags: number): string {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(RamFlag)) if (flags & bit) names.push(name);
  return names.join('|') || '0';
}
