import * as fs from 'fs';
import { loadNativeModule } from '../bytes/native-module';

/** The native module built from src/stream/native/file-pages.c by `npm install` (node-gyp). */
interface NativeFilePages {
  scan(
    fd: number,
    pos: number,
    end: number,
    pageSize: number,
    blockLength: number,
    stretches: boolean,
    ops: Float64Array,
  ): number;
  writePages(
    inFd: number,
    from: number,
    stride: number,
    pageSize: number,
    count: number,
    outFd: number,
    outPos: number,
  ): number;
  hashPages(
    fd: number,
    from: number,
    stride: number,
    pageSize: number,
    count: number,
    out: Uint32Array,
  ): number;
  release(fd: number): void;
  punchHole(fd: number, offset: number, length: number): void;
}

/** How a scan ended (file-pages.c). */
export const ScanStatus = {
  /** At a record it does not take, or at the end of the file. */
  Stop: 0,
  /** At the end of a window (or of the entries): scan again from `pos`. */
  More: 1,
  /** The file was cut while mapped: nothing was taken. */
  Fault: 2,
  /** The file could not be mapped: nothing was taken. */
  Unmapped: 3,
} as const;

/** What an entry of a scan is. */
export const ScanEntry = {
  /** [flags, records]: consecutive records of the same flags. */
  Streak: 0,
  /** [address, offset of the first record, pages]: data pages at consecutive addresses. */
  Stretch: 1,
  /** [address]: a zero page of fill 0. */
  Zero: 2,
} as const;

/** Whether punchHole can make holes here (the native module is built). */
export function holesSupported(): boolean {
  return loadNativeModule('file_pages', 'VMSTATE_FILE_PAGES') !== null;
}

/**
 * Makes bytes [offset, offset + length) of the file open as `fd` a hole (zeros, no blocks; the
 * size stays), with fallocate(2). False where the native module is not built; throws as fs does
 * (EOPNOTSUPP on a file system without holes).
 */
export function punchHole(fd: number, offset: number, length: number): boolean {
  const native = loadNativeModule<NativeFilePages>('file_pages', 'VMSTATE_FILE_PAGES');
  if (!native) return false;
  native.punchHole(fd, offset, length);
  return true;
}

/** Entries a scan may return at once (4 numbers each, after a header of 8). */
const ENTRIES = 4096;

/** One scan's result; the same object (and array) each call. */
export class PageScan {
  readonly ops = new Float64Array(8 + 4 * ENTRIES);
  entries = 0;
  /** Where the scan stopped: the first record it did not take. */
  get pos(): number {
    return this.ops[0];
  }
  get status(): number {
    return this.ops[1];
  }
  get pages(): number {
    return this.ops[2];
  }
  get zeros(): number {
    return this.ops[3];
  }
  get nonZeroFill(): number {
    return this.ops[4];
  }
  kind(i: number): number {
    return this.ops[8 + 4 * i];
  }
  /** The entry's numbers after its kind (a = 1, b = 2, c = 3). */
  at(i: number, k: 1 | 2 | 3): number {
    return this.ops[8 + 4 * i + k];
  }
}

/**
 * RAM page records of a regular stream file read through a mapping of it (file-pages.c): page
 * headers are read without copying the pages, and pages go to an output file in one copy. For
 * sources made by fileSource, when the native module was built and VMSTATE_FILE_PAGES is not
 * `off`; the walk copies the bytes in as before otherwise.
 */
export class FilePages {
  private readonly result = new PageScan();

  private constructor(
    private readonly native: NativeFilePages,
    readonly fd: number,
    /** The file's size when opened: no record past it is taken. */
    readonly size: number,
  ) {}

  static of(fd: number, size: number): FilePages | undefined {
    const native = loadNativeModule<NativeFilePages>('file_pages', 'VMSTATE_FILE_PAGES');
    return native ? new FilePages(native, fd, size) : undefined;
  }

  /**
   * The data and zero page records of the current block from `pos` on (CONTINUE set, address
   * below `blockLength`), up to the end of one mapped window; with `stretches` also where their
   * pages are. See file-pages.c for what it stops at.
   */
  scan(pos: number, pageSize: number, blockLength: number, stretches: boolean): PageScan {
    const r = this.result;
    r.entries = this.native.scan(this.fd, pos, this.size, pageSize, blockLength, stretches, r.ops);
    return r;
  }

  /**
   * Writes `count` pages of `pageSize` bytes, found every `stride` bytes from `from` in this file,
   * to `outFd` at `outPos` (one copy, by the kernel). Returns the bytes written: fewer only when
   * the file was cut meanwhile. A failed write throws as fs does (code ENOSPC, EIO...).
   */
  writePages(
    from: number,
    stride: number,
    pageSize: number,
    count: number,
    outFd: number,
    outPos: number,
  ): number {
    return this.native.writePages(this.fd, from, stride, pageSize, count, outFd, outPos);
  }

  /**
   * The page hash of src/diff/page-hashes.ts (pageHash) of `count` pages of `pageSize` bytes
   * found every `stride` bytes from `from` in this file, read through its mapping, as two words
   * each into `out` (2 * count long). Returns how many pages it hashed: fewer only when the file
   * ends, or was cut meanwhile, before them.
   */
  hashPages(
    from: number,
    stride: number,
    pageSize: number,
    count: number,
    out: Uint32Array,
  ): number {
    return this.native.hashPages(this.fd, from, stride, pageSize, count, out);
  }

  /** Unmaps what the native module keeps mapped of the file; call before closing `fd`. */
  close(): void {
    this.native.release(this.fd);
  }

  /** `length` bytes at `pos`, copied (fewer at the end of the file). */
  read(pos: number, length: number): Uint8Array {
    const buf = new Uint8Array(Math.max(0, Math.min(length, this.size - pos)));
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(this.fd, buf, got, buf.length - got, pos + got);
      if (n === 0) break;
      got += n;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  }
}
