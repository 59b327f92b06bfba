/**
 * Which pages of a RAM block an extract has written data to, so that a later zero page with fill
 * 0 clears one that holds data, as QEMU's ram_handle_zero does on the destination (the block file
 * starts sparse, all zeros, so a zero page over an unwritten page needs no write). The bitmap is
 * kept in chunks made on first write: its memory follows the pages the stream sent, never the
 * length a block claims (up to 2^52 bytes).
 */
export class WrittenPages {
  private readonly chunks = new Map<number, Uint8Array>();

  /** Pages per chunk: 32,768 (a 4 KiB bitmap for 128 MiB of 4 KiB pages). */
  private static readonly CHUNK_PAGES = 1 << 15;

  constructor(private readonly pageSize: number) {}

  /** Marks the pages that bytes [pos, pos + len) touch. */
  mark(pos: number, len: number): void {
    if (len <= 0) return;
    const N = WrittenPages.CHUNK_PAGES;
    const last = Math.floor((pos + len - 1) / this.pageSize);
    for (let p = Math.floor(pos / this.pageSize); p <= last;) {
      const c = Math.floor(p / N);
      let bits = this.chunks.get(c);
      if (!bits) this.chunks.set(c, (bits = new Uint8Array(N >> 3)));
      let i = p - c * N;
      const end = Math.min(N, last - c * N + 1);
      // Single bits up to a byte boundary, whole bytes (a stretch of 1,024 pages is 128), the rest.
      for (; i < end && i & 7; i++) bits[i >> 3] |= 1 << (i & 7);
      if (i + 8 <= end) {
        const to = end & ~7;
        bits.fill(0xff, i >> 3, to >> 3);
        i = to;
      }
      for (; i < end; i++) bits[i >> 3] |= 1 << (i & 7);
      p = c * N + end;
    }
  }

  /**
   * The byte ranges [start, end) of [0, length) whose pages were never marked, in order: what an
   * extract into an earlier extract's file has to clear. Whole chunks never marked are one range
   * each, however long the block claims to be.
   */
  *unmarked(length: number): Generator<[number, number]> {
    const N = WrittenPages.CHUNK_PAGES;
    const pages = Math.ceil(length / this.pageSize);
    const at = (p: number): number => Math.min(length, p * this.pageSize);
    let from = 0; // first page of the unmarked range being gathered, or -1 in a marked stretch
    let next = 0; // the first page not looked at yet
    for (const c of [...this.chunks.keys()].sort((a, b) => a - b)) {
      const base = c * N;
      if (base >= pages) break;
      if (from < 0 && base > next) from = next; // the chunks between were never marked
      const bits = this.chunks.get(c)!;
      const stop = Math.min(N, pages - base);
      for (let i = 0; i < stop; i++) {
        if (from < 0 && (i & 7) === 0 && bits[i >> 3] === 0xff && i + 8 <= stop) {
          i += 7;
          continue;
        }
        const marked = (bits[i >> 3] & (1 << (i & 7))) !== 0;
        if (marked && from >= 0) {
          if (base + i > from) yield [at(from), at(base + i)];
          from = -1;
        } else if (!marked && from < 0) from = base + i;
      }
      next = base + stop;
    }
    if (from < 0 && next < pages) from = next;
    if (from >= 0 && from < pages) yield [at(from), length];
  }

  /** Whether any page that bytes [pos, pos + len) touch was marked. */
  any(pos: number, len: number): boolean {
    if (len <= 0) return false;
    const last = Math.floor((pos + len - 1) / this.pageSize);
    for (let p = Math.floor(pos / this.pageSize); p <= last; p++) {
      const c = Math.floor(p / WrittenPages.CHUNK_PAGES);
      const bits = this.chunks.get(c);
      const i = p - c * WrittenPages.CHUNK_PAGES;
      if (bits && bits[i >> 3] & (1 << (i & 7))) return true;
    }
    return false;
  }
}
