import { ByteReader } from '../bytes/reader';
import { LimitExceededError, TruncatedError, placed, readingAt } from '../errors';
import { Limits } from './constants';
import type { ChunkSource } from './source';

/** A buffer whose bytes are not zeroed first (the window only ever exposes bytes it has read). */
function uninitialized(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/**
 * A sliding window over a ChunkSource. `pos` is the absolute offset of the next unconsumed byte;
 * the window holds [pos, end). Parsers work on a ByteReader over the window and, when it throws
 * TruncatedError while more input exists, ask for a bigger window and parse again.
 *
 * Buffer reuse: views taken through `parse()` (device sections, headers) may be kept by whoever
 * decoded them, so such a buffer is "pinned" and never written again; the next refill starts a
 * new one. Views taken from `reader()` directly (RAM page records) are only valid until the next
 * refill, which may move bytes within the same buffer. `take()` always returns a copy.
 */
export class StreamWindow {
  /** Backing store; the window's bytes are store[0 .. len). */
  private store: Uint8Array = new Uint8Array(0);
  private len = 0;
  /** Absolute offset of store[0]. */
  private start: number;
  /** True while views of `store` may be held elsewhere, so it must not be overwritten. */
  private pinned = true;
  /** Absolute offset of the next unconsumed byte. */
  pos: number;
  /** Bytes read from the source so far. */
  private fromSource = 0;
  /** True once the source has returned its last chunk. */
  ended = false;
  /** Called with the absolute end offset each time input arrives (progress reporting). */
  onChunk?: (end: number) => void;

  constructor(
    private readonly source: ChunkSource,
    base = 0,
    private readonly chunkBytes: number = Limits.chunkBytes,
  ) {
    this.start = base;
    this.pos = base;
  }

  get end(): number {
    return this.start + this.len;
  }
  get available(): number {
    return this.end - this.pos;
  }

  /** Reads input until at least `n` bytes are available or the input ends. Returns the bytes available. */
  async fill(n: number): Promise<number> {
    if (this.available >= n || this.ended) return this.available;
    if (this.source.readInto) await this.fillInto(n);
    else await this.fillChunks(n);
    return this.available;
  }

  /** Refill by reading straight into a buffer, reusing the current one when nothing pins it. */
  private async fillInto(n: number): Promise<void> {
    const keep = this.available;
    // A source of known size never needs room past its end (a small file, the tail of a big one).
    const left = this.source.size === undefined ? Infinity : this.source.size - this.fromSource;
    const want = Math.min(Math.max(n, keep + this.chunkBytes), keep + left);
    const from = this.pos - this.start;
    if (!this.pinned && this.store.length >= want) {
      this.store.copyWithin(0, from, this.len);
    } else {
      const next = uninitialized(Math.min(Math.max(want, 2 * this.chunkBytes), keep + left));
      next.set(this.store.subarray(from, this.len));
      this.store = next;
      this.pinned = false;
    }
    this.start = this.pos;
    this.len = keep;
    while (this.len < n) {
      const got = await this.source.readInto!(this.store, this.len, this.store.length - this.len);
      if (got === 0) {
        this.ended = true;
        break;
      }
      this.fromSource += got;
      this.len += got;
      this.onChunk?.(this.start + this.len);
    }
  }

  /** Refill from a source that hands out chunks: join what is left with new chunks in a new buffer. */
  private async fillChunks(n: number): Promise<void> {
    const parts: Uint8Array[] = [this.store.subarray(this.pos - this.start, this.len)];
    let have = parts[0].length;
    while (have < n) {
      const chunk = await this.source.read();
      if (chunk === null) {
        this.ended = true;
        break;
      }
      parts.push(chunk);
      have += chunk.length;
      this.fromSource += chunk.length;
      this.onChunk?.(this.pos + have);
    }
    if (parts.length === 1) this.store = parts[0];
    else if (parts.length === 2 && parts[0].length === 0) this.store = parts[1];
    else {
      const joined = new Uint8Array(have);
      let at = 0;
      for (const p of parts) {
        joined.set(p, at);
        at += p.length;
      }
      this.store = joined;
    }
    this.len = this.store.length;
    this.start = this.pos;
    this.pinned = true; // chunks belong to the source; never write into them
  }

  /** A reader over the available bytes, positioned at `pos`. Its views last until the next fill. */
  reader(): ByteReader {
    return new ByteReader(this.store.subarray(this.pos - this.start, this.len), this.pos);
  }

  /** Marks everything before absolute offset `to` as consumed. */
  advance(to: number): void {
    if (to < this.pos || to > this.end)
      throw new RangeError(`advance to ${to} outside [${this.pos}, ${this.end}]`);
    this.pos = to;
  }

  /**
   * Marks everything before absolute offset `to` as consumed, also past the window's end: the
   * bytes between are never read in (the source's `pages` took them). Only for a source with
   * `skip`.
   */
  skipTo(to: number): void {
    if (to <= this.end) return this.advance(to);
    this.source.skip!(to);
    this.fromSource += to - this.end;
    this.start = this.pos = to;
    this.len = 0;
    this.onChunk?.(to);
  }

  /** The source's RAM pages read in place, when it has them (a regular file; see ChunkSource.pages). */
  get pages() {
    return this.source.pages;
  }

  /** True when at least one more byte exists (reading more input if needed). */
  async hasMore(): Promise<boolean> {
    return (await this.fill(1)) > 0;
  }

  /**
   * Runs `parse` over the window, growing it on TruncatedError while more input exists, up to
   * `limit` bytes. On success the window advances past what `parse` consumed. The buffer is
   * pinned: what `parse` returns may hold views of it, unless `views` is false (numbers,
   * strings, copies: a section header), which lets the next refill reuse the buffer instead of
   * allocating one. An error that `parse` raised without a path (the reader's) is placed at `path`.
   */
  async parse<T>(
    parse: (r: ByteReader) => T,
    opts: { initial?: number; limit: number; what: string; path?: string; views?: boolean },
  ): Promise<T> {
    let want = Math.max(1, opts.initial ?? 4096);
    for (;;) {
      await this.fill(want);
      const r = this.reader();
      try {
        const value = parse(r);
        if (opts.views !== false) this.pinned = true;
        this.advance(r.offset);
        return value;
      } catch (e) {
        if (!(e instanceof TruncatedError) || this.ended) throw placed(e, opts.path ?? '');
        if (this.available >= opts.limit)
          throw new LimitExceededError(
            opts.what,
            this.available,
            opts.limit,
            this.pos,
            opts.path ?? '',
          );
        // Every byte of a source of known size is in: parsing again would read the same bytes
        // and fail the same way (a cut section was decoded twice, the second time to learn that).
        if (this.source.size !== undefined && this.fromSource >= this.source.size) {
          this.ended = true;
          throw placed(e, opts.path ?? '');
        }
        want = Math.min(opts.limit, Math.max(this.available * 2, this.available + 65536));
      }
    }
  }

  /** Reads exactly n bytes into a new buffer, or throws TruncatedError at the end of input. */
  async take(n: number, path = ''): Promise<Uint8Array> {
    await this.fill(n);
    const r = this.reader();
    const v = readingAt(path, () => r.bytesCopy(n));
    this.advance(r.offset);
    return v;
  }
}
