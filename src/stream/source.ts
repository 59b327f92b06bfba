import * as fs from 'fs';
import type { Readable } from 'stream';
import { Limits } from './constants';
import { FilePages } from './file-pages';

/**
 * Where stream bytes come from: chunks in order, and for files also random access (used to find
 * the VM description at the end before walking forward). Nothing here holds more than one chunk.
 */
export interface ChunkSource {
  /** The next chunk, or null at the end of input. Chunks are never mutated after being returned. */
  read(): Promise<Uint8Array | null>;
  /** Total size in bytes, when known up front (files). */
  readonly size?: number;
  /**
   * Reads the next bytes into `buf` at `offset` (at most `length`), returning how many (0 at the
   * end). Lets the window refill one reused buffer instead of allocating a chunk per read.
   */
  readInto?(buf: Uint8Array, offset: number, length: number): Promise<number>;
  /** Random access, for seekable sources only. Returns fewer bytes at the end of the input. */
  readAt?(position: number, length: number): Promise<Uint8Array>;
  /**
   * A regular file's RAM pages read in place (FilePages), for the walk to step over or write
   * page data without reading it in; undefined where the native module is not built. Made on
   * first use. With it comes `skip`.
   */
  readonly pages?: FilePages;
  /** Moves the next read forward to absolute offset `to` (past bytes `pages` has taken). */
  skip?(to: number): void;
  close(): Promise<void>;
}

/**
 * A file read in chunks of `chunkBytes`, with random access. Reads are synchronous and
 * positional (pread): from the page cache that is a copy, while an asynchronous read would wait
 * for a thread-pool round trip every chunk with nothing else to do meanwhile.
 */
export async function fileSource(
  path: string,
  chunkBytes: number = Limits.chunkBytes,
): Promise<ChunkSource> {
  const fd = fs.openSync(path, 'r');
  let size: number;
  let regular: boolean;
  try {
    const st = fs.fstatSync(fd);
    size = st.size;
    regular = st.isFile();
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  let position = 0;
  let closed = false;
  let pages: FilePages | undefined | null = regular ? undefined : null;
  const readAtSync = (pos: number, length: number): Uint8Array => {
    const n = Math.max(0, Math.min(length, size - pos));
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const bytesRead = fs.readSync(fd, buf, got, n - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === n ? buf : buf.subarray(0, got);
  };
  return {
    size,
    async read() {
      if (position >= size) return null;
      const chunk = readAtSync(position, chunkBytes);
      if (chunk.length === 0) return null;
      position += chunk.length;
      return chunk;
    },
    async readInto(buf, offset, length) {
      if (position >= size || length <= 0) return 0;
      const bytesRead = fs.readSync(fd, buf, offset, Math.min(length, size - position), position);
      position += bytesRead;
      return bytesRead;
    },
    async readAt(pos: number, length: number) {
      return readAtSync(pos, length);
    },
    get pages() {
      if (pages === undefined) pages = FilePages.of(fd, size) ?? null;
      return pages ?? undefined;
    },
    skip(to: number) {
      position = Math.max(position, to);
    },
    async close() {
      if (!closed) {
        closed = true;
        pages?.close();
        pages = null;
        fs.closeSync(fd);
      }
    },
  };
}

/** Any Node readable (stdin, a pipe, a socket): chunks in arrival order, no random access. */
export function readableSource(stream: Readable): ChunkSource {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  return {
    async read() {
      for (;;) {
        const { value, done } = await it.next();
        if (done) return null;
        const chunk = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
        if (chunk.length > 0) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
      }
    },
    async close() {
      if (it.return) await it.return();
      stream.destroy();
    },
  };
}

/** Bytes already in memory, served in chunks so the window logic is exercised the same way. */
export function bytesSource(
  bytes: Uint8Array,
  chunkBytes: number = Limits.chunkBytes,
): ChunkSource {
  let position = 0;
  return {
    size: bytes.length,
    async read() {
      if (position >= bytes.length) return null;
      const chunk = bytes.subarray(position, Math.min(bytes.length, position + chunkBytes));
      position += chunk.length;
      return chunk;
    },
    async readInto(buf, offset, length) {
      const n = Math.max(0, Math.min(length, chunkBytes, bytes.length - position));
      buf.set(bytes.subarray(position, position + n), offset);
      position += n;
      return n;
    },
    async readAt(pos: number, length: number) {
      return bytes.subarray(Math.min(pos, bytes.length), Math.min(bytes.length, pos + length));
    },
    async close() {},
  };
}
