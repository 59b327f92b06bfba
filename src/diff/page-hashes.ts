import { inflateSync } from 'zlib';
import { TruncatedError } from '../errors';
import type { FilePages } from '../stream/file-pages';
import type { RamRecord } from '../stream/ram';

/** Pages per lazily allocated chunk: memory follows the pages a stream sends, not the lengths it claims. */
const CHUNK_PAGES = 1 << 16;

/** Pages of a file stretch hashed per native call. */
const FILE_BATCH = 4096;

const UNSENT = 0;
const HASHED = 1;
/** An XBZRLE page: its content depends on the previous one, which is not kept. */
const UNKNOWN = 2;

interface Chunk {
  state: Uint8Array;
  hash: Uint32Array;
}

let scratch = new Int32Array(1024);
let scratchBytes = new Uint8Array(scratch.buffer);

/** The page as 32-bit words: a view where it is aligned (most pages), else a copy that is. */
function wordsOf(data: Uint8Array, words: number): Int32Array {
  if ((data.byteOffset & 3) === 0) return new Int32Array(data.buffer, data.byteOffset, words);
  if (scratch.length < words) {
    scratch = new Int32Array(words);
    scratchBytes = new Uint8Array(scratch.buffer);
  }
  scratchBytes.set(data.subarray(0, words * 4));
  return scratch;
}

const PRIME = 0x01000193;

/**
 * A 64-bit hash of a page, enough to tell pages apart (not a MAC). Four FNV-style lanes over
 * 32-bit words, each step `h = (h ^ a) * P ^ b` taking two words: each step is a bijection of
 * either word, so a page that differs in one word always hashes differently, and the lanes are
 * independent, which lets the JIT run them side by side (about 2-3 GB/s of CPU time; one lane
 * and one word a step is a third of that).
 */
export function pageHash(data: Uint8Array): [number, number] {
  const words = data.length >>> 2;
  const w = wordsOf(data, words);
  let h1 = 0x811c9dc5 ^ data.length;
  let h2 = 0x9e3779b9;
  let h3 = 0x85ebca6b;
  let h4 = 0xc2b2ae35;
  const n = words & ~7;
  let i = 0;
  for (; i < n; i += 8) {
    h1 = Math.imul(h1 ^ w[i], PRIME) ^ w[i + 4];
    h2 = Math.imul(h2 ^ w[i + 1], PRIME) ^ w[i + 5];
    h3 = Math.imul(h3 ^ w[i + 2], PRIME) ^ w[i + 6];
    h4 = Math.imul(h4 ^ w[i + 3], PRIME) ^ w[i + 7];
  }
  for (; i < words; i++) h1 = Math.imul(h1 ^ w[i], PRIME);
  for (let k = words * 4; k < data.length; k++) h2 = Math.imul(h2 ^ data[k], PRIME);
  // The last words were only xored in: one more multiply mixes them before the lanes combine.
  h1 = Math.imul(h1, PRIME);
  h2 = Math.imul(h2, PRIME);
  h3 = Math.imul(h3, PRIME);
  h4 = Math.imul(h4, PRIME);
  const a = h1 ^ Math.imul((h2 << 13) | (h2 >>> 19), 0x27d4eb2f);
  const b = h3 ^ Math.imul((h4 << 7) | (h4 >>> 25), 0x165667b1);
  return [a >>> 0, b >>> 0];
}

/**
 * The last content of every page a stream sent, as a hash per page, so two streams are compared
 * page by page without holding either's RAM: 9 bytes per page sent (about 2.3 MiB per GiB).
 */
export class PageHashes {
  private readonly blocks = new Map<string, Map<number, Chunk>>();
  /** Where the native module writes a batch of a file stretch's hashes. */
  private readonly fileHashes = new Uint32Array(2 * FILE_BATCH);
  private readonly fillHashes = new Map<number, [number, number]>();

  constructor(readonly pageSize: number) {}

  /** The hash of a page of one repeated byte (zero pages, and pages never sent, which stay zero). */
  fillHash(fill: number): [number, number] {
    let h = this.fillHashes.get(fill);
    if (!h) {
      h = pageHash(new Uint8Array(this.pageSize).fill(fill));
      this.fillHashes.set(fill, h);
    }
    return h;
  }

  /**
   * A stretch of `count` raw page records at consecutive addresses from `addr`, in `b` from
   * `from` (an 8-byte header before each page), as the walk hands them (PageBytesSink.pages).
   */
  pages(block: string, addr: number, b: Uint8Array, from: number, count: number): void {
    const size = this.pageSize;
    for (let i = 0, at = from + 8; i < count; i++, at += 8 + size) {
      const [h1, h2] = pageHash(b.subarray(at, at + size));
      this.setHash(block, addr + i * size, HASHED, h1, h2);
    }
  }

  /** A zero page of fill 0 (PageBytesSink.zeroPage). */
  zeroPage(block: string, addr: number): void {
    const [h1, h2] = this.fillHash(0);
    this.setHash(block, addr, HASHED, h1, h2);
  }

  /**
   * The same stretch left in the input file (PageBytesSink.filePages): hashed by the native
   * module through the file's mapping, about 8 GB/s against pageHash's 2-3.
   */
  filePages(block: string, addr: number, file: FilePages, from: number, count: number): void {
    const size = this.pageSize;
    const stride = 8 + size;
    for (let done = 0; done < count;) {
      const n = Math.min(count - done, FILE_BATCH);
      const at = from + done * stride;
      const hashed = file.hashPages(at + 8, stride, size, n, this.fileHashes);
      for (let i = 0; i < hashed; i++)
        this.setHash(
          block,
          addr + (done + i) * size,
          HASHED,
          this.fileHashes[2 * i],
          this.fileHashes[2 * i + 1],
        );
      if (hashed < n) throw new TruncatedError(stride, 0, at + hashed * stride, `ram > ${block}`);
      done += n;
    }
  }

  record(rec: RamRecord): void {
    switch (rec.kind) {
      case 'zero':
        return this.set(rec.block, rec.addr, HASHED, this.fillHash(rec.fill));
      case 'page':
        return this.set(rec.block, rec.addr, HASHED, pageHash(rec.data));
      case 'compressed': {
        let page: Uint8Array;
        try {
          page = inflateSync(rec.data, { maxOutputLength: this.pageSize });
        } catch {
          return this.set(rec.block, rec.addr, UNKNOWN, [0, 0]);
        }
        return this.set(rec.block, rec.addr, HASHED, pageHash(page));
      }
      case 'xbzrle':
        return this.set(rec.block, rec.addr, UNKNOWN, [0, 0]);
      default:
        return;
    }
  }

  private set(block: string, addr: number, state: number, [h1, h2]: [number, number]): void {
    this.setHash(block, addr, state, h1, h2);
  }

  private setHash(block: string, addr: number, state: number, h1: number, h2: number): void {
    let chunks = this.blocks.get(block);
    if (!chunks) this.blocks.set(block, (chunks = new Map()));
    const page = Math.floor(addr / this.pageSize);
    const ci = Math.floor(page / CHUNK_PAGES);
    let c = chunks.get(ci);
    if (!c) {
      c = { state: new Uint8Array(CHUNK_PAGES), hash: new Uint32Array(CHUNK_PAGES * 2) };
      chunks.set(ci, c);
    }
    const k = page - ci * CHUNK_PAGES;
    c.state[k] = state;
    c.hash[2 * k] = h1;
    c.hash[2 * k + 1] = h2;
  }

  /** The chunk indices with any page sent, for one block. */
  chunkIndices(block: string): number[] {
    return [...(this.blocks.get(block)?.keys() ?? [])];
  }

  /** A page's state and hash; a page never sent reads as a zero page. */
  page(block: string, page: number): { known: boolean; h1: number; h2: number } {
    const c = this.blocks.get(block)?.get(Math.floor(page / CHUNK_PAGES));
    const k = page % CHUNK_PAGES;
    const state = c ? c.state[k] : UNSENT;
    if (state === UNSENT) {
      const [h1, h2] = this.fillHash(0);
      return { known: true, h1, h2 };
    }
    return { known: state === HASHED, h1: c!.hash[2 * k], h2: c!.hash[2 * k + 1] };
  }
}

export const PAGES_PER_CHUNK = CHUNK_PAGES;
