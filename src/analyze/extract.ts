import * as fs from 'fs';
import * as path from 'path';
import { inflateSync } from 'zlib';
import { MalformedError, TruncatedError, UnsupportedError } from '../errors';
import { holesSupported, punchHole, type FilePages } from '../stream/file-pages';
import { readStreamContents, type StreamContents } from '../stream/collect';
import type { RamRecord } from '../stream/ram';
import type { ChunkSource } from '../stream/source';
import type { WalkOptions } from '../stream/walk';
import { OutputPathError, writeDirAtomically } from '../stream/atomic-file';
import { BlockWriter } from './block-writer';
import { WrittenPages } from './written-pages';
import { pythonJson } from './python-json';
import { qemuDescValue, qemuStateDict } from './qemu-format';

export interface ExtractResult {
  /** Written files, relative to the directory, in the order analyze-migration.py -x prints them. */
  files: string[];
  contents: StreamContents;
}

/**
 * What `analyze-migration.py -x` writes: desc.json (the vmdesc re-printed), one file per RAM
 * block (named by the block id, leading '/' dropped, sized to the block, pages at their offsets)
 * and state.json. Everything goes into a temporary directory renamed to `dir` at the end, so a
 * failure leaves nothing behind.
 */
export async function extractStream(
  source: ChunkSource,
  dir: string,
  opts: WalkOptions & {
    force?: boolean;
    /** Bytes of block data written in place before the writes move to the thread pool. */
    threadAfterBytes?: number;
    /**
     * 'runs' (the default): raw pages are copied from the input buffer in stretches, with no
     * record object per page; 'records': every page as a RamRecord (the same files, kept to
     * check that).
     */
    ramPages?: 'records' | 'runs';
  } = {},
): Promise<ExtractResult> {
  // A block file of the earlier extract is taken over only with the input's identity known,
  // so that the input itself (a stream saved inside the directory) is never written over.
  const input = source.pages ? fs.fstatSync(source.pages.fd) : undefined;
  return writeDirAtomically(
    dir,
    async (tmp, earlier) => {
      const blocks = new BlockFiles(
        tmp,
        opts.threadAfterBytes,
        true,
        input && holesSupported() ? { dir: earlier, input } : undefined,
      );
      let contents: StreamContents;
      try {
        contents = await readStreamContents(source, {
          ...opts,
          onRam: (r, pageSize) => blocks.record(r, pageSize),
          onPages:
            opts.ramPages === 'records'
              ? undefined
              : (block, addr, b, from, count) => blocks.pages(block, addr, b, from, count),
          onFilePages:
            opts.ramPages === 'records'
              ? undefined
              : (block, addr, file, from, count) =>
                  blocks.filePages(block, addr, file, from, count),
          onZeroPage: (block, addr) => blocks.zeroPage(block, addr),
          onDrain: () => blocks.drain(),
        });
        blocks.flush();
        await blocks.close(true);
      } catch (e) {
        await blocks.close(false).catch(() => {}); // the first failure is the one to report
        throw e;
      }
      const files: string[] = [];
      if (contents.vmdesc) {
        fs.writeFileSync(
          path.join(tmp, 'desc.json'),
          pythonJson(qemuDescValue(contents.vmdesc.json, contents.vmdesc.offset)),
        );
        files.push('desc.json');
      }
      for (const n of blocks.names) files.push(n);
      fs.writeFileSync(path.join(tmp, 'state.json'), pythonJson(qemuStateDict(contents)));
      files.push('state.json');
      return { files, contents };
    },
    (existing) => {
      if (!opts.force && !isReplaceable(existing))
        throw new OutputPathError(
          existing,
          'the directory holds files that are not an earlier extract (no state.json); --force replaces it whole',
        );
    },
    // The block files written next reuse the memory of the earlier extract's (see
    // writeDirAtomically), or its very files and their pages (BlockFiles.takeOver).
    { removeFirst: true, reuse: true },
  );
}

/** An empty directory or an earlier extract (it has a state.json) is replaced without --force. */
function isReplaceable(dir: string): boolean {
  const names = fs.readdirSync(dir);
  return names.length === 0 || names.includes('state.json');
}

/**
 * No machine has more: x86-64's largest physical address space is 2^52 bytes. A block list that
 * claims more is refused before any file is sized by it.
 */
export const MAX_BLOCK_BYTES = 2 ** 52;

/** Block files kept open at once; others are reopened on demand (a list of 20,000 blocks is legal). */
const OPEN_FILES = 64;

/** Maps a RAM block id to a path inside the directory, refusing ids that would leave it. */
export function blockFilePath(name: string): string {
  const rel = name.replace(/^\/+/, '');
  const parts = rel.split('/');
  if (
    !rel ||
    parts.some((p) => p === '' || p === '.' || p === '..') ||
    rel.includes('\0') ||
    rel === 'desc.json' ||
    rel === 'state.json'
  )
    throw new UnsupportedError(
      `RAM block id '${name}' cannot be used as a file name`,
      0,
      `ram > ${name}`,
    );
  return path.join(...parts);
}

class BlockFiles {
  private readonly blocks = new Map<
    string,
    {
      file: string;
      length: number;
      written: WrittenPages;
      /** An earlier extract's file, taken over: what this run does not write is cleared at the end. */
      reused: boolean;
    }
  >();
  /** Open descriptors, least recently used first. */
  private readonly open = new Map<string, number>();
  readonly names: string[] = [];

  private readonly writer: BlockWriter;

  constructor(
    private readonly dir: string,
    threadAfterBytes?: number,
    /** Runs of pages written straight from the input buffer (BlockWriter.writeStrided). */
    private readonly direct = true,
    /** An earlier extract's directory whose block files may be taken over, and the input's identity. */
    private readonly earlier?: { dir: string | undefined; input: fs.Stats },
  ) {
    this.writer = new BlockWriter(
      (name) => this.fd(name),
      (name) => this.blocks.get(name)!.file,
      undefined,
      undefined,
      threadAfterBytes,
    );
  }

  /** Page size of the stream, as of the latest record (page stretches come after MEM_SIZE). */
  private pageSize = 4096;

  /** A stretch of raw pages at consecutive addresses (StreamVisitor.pageBytes). */
  pages(block: string, addr: number, b: Uint8Array, from: number, count: number): void {
    const f = this.blocks.get(block);
    if (!f) return;
    const size = this.pageSize;
    // Whole pages inside the block go straight from the input buffer when the writer is idle.
    const whole = Math.min(count, Math.floor((f.length - addr) / size));
    let i = 0;
    if (
      whole > 0 &&
      this.direct &&
      this.writer.writeStrided(block, b, from + 8, 8 + size, size, whole, addr)
    ) {
      f.written.mark(addr, whole * size);
      i = whole;
    }
    for (let at = from + 8 + i * (8 + size); i < count; i++, at += 8 + size)
      this.write(block, b.subarray(at, at + size), addr + i * size);
  }

  /**
   * A stretch of raw pages at consecutive addresses that stays in the input file (the walk read
   * it through the file's mapping): written from there in one copy when the writer is idle, else
   * read in and handed to `pages`.
   */
  filePages(block: string, addr: number, file: FilePages, from: number, count: number): void {
    const f = this.blocks.get(block);
    if (!f) return;
    const size = this.pageSize;
    const stride = 8 + size;
    const whole = Math.min(count, Math.floor((f.length - addr) / size));
    let i = 0;
    if (whole > 0 && this.writer.writeFromFile(block, file, from + 8, stride, size, whole, addr)) {
      f.written.mark(addr, whole * size);
      i = whole;
    }
    if (i === count) return;
    const at = from + i * stride;
    const b = file.read(at, (count - i) * stride);
    if (b.length < (count - i) * stride)
      throw new TruncatedError((count - i) * stride, b.length, at, `ram > ${block}`);
    this.pages(block, addr + i * size, b, 0, count - i);
  }

  /**
   * A zero page of fill 0. QEMU's ram_handle_zero clears the page when it holds data (a page sent
   * in one pass and zeroed in a later one); a page never written is zero in the sparse file already.
   */
  zeroPage(block: string, addr: number): void {
    const f = this.blocks.get(block);
    if (f?.written.any(addr, this.pageSize)) this.write(block, new Uint8Array(this.pageSize), addr);
  }

  record(r: RamRecord, pageSize: number): void {
    this.pageSize = pageSize;
    if (r.kind === 'mem-size') {
      for (const b of r.blocks)
        if (!this.blocks.has(b.name)) this.create(b.name, b.length, r.offset);
      return;
    }
    if (!('block' in r)) return;
    const f = this.blocks.get(r.block);
    if (!f) return;
    const pos = r.addr;
    switch (r.kind) {
      case 'zero':
        if (r.fill !== 0) this.write(r.block, new Uint8Array(pageSize).fill(r.fill), pos);
        else this.zeroPage(r.block, pos);
        return;
      case 'page':
        return this.write(r.block, r.data, pos);
      case 'compressed': {
        let data: Uint8Array;
        try {
          // A page inflates to one page: a stream that says more is a zip bomb, not RAM.
          data = inflateSync(r.data, { maxOutputLength: pageSize });
        } catch (e) {
          throw new MalformedError(
            `compressed page does not inflate to at most one page (${pageSize} bytes): ${(e as Error).message}`,
            r.offset,
            `ram > ${r.block}`,
          );
        }
        return this.write(r.block, data, pos);
      }
      case 'xbzrle': {
        this.flush(); // the delta applies to the page as written so far
        const page = new Uint8Array(pageSize);
        // A page this run never wrote is zero (in a file taken over too, where it is cleared at the end).
        if (f.written.any(pos, pageSize))
          this.writer.pageAt(r.block, pos, Math.max(0, Math.min(pageSize, f.length - pos)), page);
        applyXbzrle(page, r.data, r.offset, r.block);
        return this.write(r.block, page, pos);
      }
    }
  }

  /** Creates the block's file at its full (sparse) size. */
  private create(name: string, length: bigint, offset: number): void {
    const where = `ram > ${name}`;
    if (length > BigInt(MAX_BLOCK_BYTES))
      throw new UnsupportedError(
        `RAM block '${name}' of 0x${length.toString(16)} bytes is larger than any machine's memory (2^52 bytes)`,
        offset,
        where,
      );
    const rel = blockFilePath(name);
    const file = path.join(this.dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const reused = this.takeOver(rel, file);
    const fd = fs.openSync(file, reused ? 'r+' : 'w+');
    try {
      fs.ftruncateSync(fd, Number(length));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EFBIG' && code !== 'EINVAL') throw e;
      throw new UnsupportedError(
        `RAM block '${name}' of 0x${length.toString(16)} bytes cannot be a file on this file system (${code})`,
        offset,
        where,
      );
    } finally {
      fs.closeSync(fd);
    }
    this.blocks.set(name, {
      file,
      length: Number(length),
      written: new WrittenPages(this.pageSize),
      reused,
    });
    this.names.push(rel);
  }

  /**
   * Moves the earlier extract's file of this block (`rel` there) to `file`, to be written over:
   * its pages are in the page cache already and its blocks on the disk, where a new file costs
   * fresh memory and the old one's removal (1 GiB: 0.3 s to free, and 0.3-1 s more to write).
   * Only a plain file, with no other name (a hard link elsewhere would see the new contents),
   * reached through plain directories (never a symbolic link, which could lead out of the
   * directory), and never the input.
   */
  private takeOver(rel: string, file: string): boolean {
    const from = this.earlier?.dir;
    if (from === undefined) return false;
    const parts = rel.split(path.sep);
    try {
      for (let i = 1; i < parts.length; i++)
        if (!fs.lstatSync(path.join(from, ...parts.slice(0, i))).isDirectory()) return false;
      const old = path.join(from, rel);
      const st = fs.lstatSync(old);
      const input = this.earlier!.input;
      if (!st.isFile() || st.nlink !== 1 || (st.dev === input.dev && st.ino === input.ino))
        return false;
      fs.renameSync(old, file);
      return true;
    } catch {
      return false; // not there: a new file
    }
  }

  /** Clears what this run did not write in the files it took over (holes, as in a new file). */
  private clearUnwritten(): void {
    for (const [name, f] of this.blocks) {
      if (!f.reused) continue;
      const fd = this.fd(name);
      for (const [from, to] of f.written.unmarked(f.length)) {
        try {
          punchHole(fd, from, to - from);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EOPNOTSUPP') throw e;
          const zeros = new Uint8Array(Math.min(to - from, 1 << 20));
          for (let at = from; at < to; at += zeros.length)
            fs.writeSync(fd, zeros, 0, Math.min(zeros.length, to - at), at);
        }
      }
    }
  }

  private fd(name: string): number {
    let fd = this.open.get(name);
    if (fd !== undefined) {
      this.open.delete(name);
      this.open.set(name, fd);
      return fd;
    }
    if (this.open.size >= OPEN_FILES) {
      // The least recently used, but never the one a write in flight uses.
      for (const [oldest, ofd] of this.open) {
        if (oldest === this.writer.inFlight) continue;
        this.open.delete(oldest);
        fs.closeSync(ofd);
        break;
      }
    }
    fd = fs.openSync(this.blocks.get(name)!.file, 'r+');
    this.open.set(name, fd);
    return fd;
  }

  /** Pages go to the writer, which gathers those that follow each other into one write. */
  private write(name: string, data: Uint8Array, pos: number): void {
    const f = this.blocks.get(name)!;
    const n = Math.min(data.length, f.length - pos);
    if (n <= 0) return;
    f.written.mark(pos, n);
    const slot = this.writer.slotBytes;
    for (let at = 0; at < n; at += slot)
      this.writer.add(name, data.subarray(at, Math.min(n, at + slot)), pos + at);
  }

  /** Hands the pages gathered so far on to be written. */
  flush(): void {
    this.writer.submit();
  }

  drain(): Promise<void> {
    return this.writer.drain();
  }

  /** Waits for the writes, then (`complete`: the extract went through) clears, then closes the files. */
  async close(complete: boolean): Promise<void> {
    try {
      await this.writer.idle();
      if (complete) this.clearUnwritten();
    } finally {
      for (const fd of this.open.values()) fs.closeSync(fd);
      this.open.clear();
    }
  }
}

/**
 * Applies an XBZRLE delta to a page in place: pairs of (zero-run length, literal length) as
 * ULEB128 numbers, each literal run followed by its bytes; zero runs keep the old bytes.
 */
export function applyXbzrle(
  page: Uint8Array,
  delta: Uint8Array,
  offset: number,
  block: string,
): void {
  let i = 0;
  let d = 0;
  const bad = (what: string) =>
    new MalformedError(`XBZRLE page: ${what}`, offset, `ram > ${block}`);
  const uleb = (): number => {
    let v = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (i >= delta.length) throw bad('encoding ends inside a number');
      const b = delta[i++];
      v |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw bad('number too long');
  };
  while (i < delta.length) {
    d += uleb();
    if (d > page.length) throw bad('zero run past the end of the page');
    if (i >= delta.length) break;
    const n = uleb();
    if (n === 0 || d + n > page.length || i + n > delta.length)
      throw bad('literal run out of bounds');
    page.set(delta.subarray(i, i + n), d);
    d += n;
    i += n;
  }
}
