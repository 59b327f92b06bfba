import { inflateSync } from 'zlib';
import type { RamRecord } from '../stream/ram';

/** Pages per lazily allocated chunk: memory follows the pages a stream sends, not the lengths it claims. */
const CHUNK_PAGES = 1 << 16;

const UNSENT = 0;
const HASHED = 1;
/** An XBZRLE page: its content depends on the previous one, which is not kept. */
const UNKNOWN = 2;

interface Chunk {
  state: Uint8Array;
  hash: Uint32Array;
}

/** A 64-bit hash of a page (two independent 32-bit lanes): enough to tell pages apart, not a MAC. */
export function pageHash(data: Uint8Array): [number, number] {
  let h1 = 0x811c9dc5 ^ data.length;
  let h2 = 0x9e3779b9;
  const n = data.length & ~3;
  let i = 0;
  for (; i < n; i += 4) {
    const w = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    h1 = Math.imul(h1 ^ w, 0x01000193);
    h2 = Math.imul((h2 << 5) | (h2 >>> 27), 0x85ebca6b) ^ w;
  }
  for (; i < data.length; i++) {
    h1 = Math.imul(h1 ^ data[i], 0x01000193);
    h2 = Math.imul(h2 ^ data[i], 0xc2b2ae35);
  }
  h1 ^= h1 >>> 16;
  h2 ^= h2 >>> 13;
  return [h1 >>> 0, Math.imul(h2, 0x27d4eb2f) >>> 0];
}

/**
 * The last content of every page a stream sent, as a hash per page, so two streams are compared
 * page by page without holding either's RAM: 9 bytes per page sent (about 2.3 MiB per GiB).
 */
export class PageHashes {
  private readonly blocks = new Map<string, Map<number, Chunk>>();
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
