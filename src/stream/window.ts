import { ByteReader } from '../bytes/reader';
import { LimitExceededError, TruncatedError } from '../errors';
import type { ChunkSource } from './source';

/**
 * A sliding window over a ChunkSource. `pos` is the absolute offset of the next unconsumed byte;
 * the window holds [pos, end). Parsers work on a ByteReader over the window and, when it throws
 * TruncatedError while more input exists, ask for a bigger window and parse again.
 *
 * Buffers handed out are never written to again (a refill builds a new buffer), so views taken
 * from a reader stay valid after later refills.
 */
export class StreamWindow {
  private buf: Uint8Array = new Uint8Array(0);
  /** Absolute offset of buf[0]. */
  private start: number;
  /** Absolute offset of the next unconsumed byte. */
  pos: number;
  /** True once the source has returned its last chunk. */
  ended = false;
  /** Called with the absolute end offset each time a chunk arrives (progress reporting). */
  onChunk?: (end: number) => void;

  constructor(
    private readonly source: ChunkSource,
    base = 0,
  ) {
    this.start = base;
    this.pos = base;
  }

  get end(): number {
    return this.start + this.buf.length;
  }
  get available(): number {
    return this.end - this.pos;
  }

  /** Reads chunks until at least `n` bytes are available or the input ends. Returns the bytes available. */
  async fill(n: number): Promise<number> {
    if (this.available >= n || this.ended) return this.available;
    const parts: Uint8Array[] = [this.buf.subarray(this.pos - this.start)];
    let have = parts[0].length;
    while (have < n) {
      const chunk = await this.source.read();
      if (chunk === null) {
        this.ended = true;
        break;
      }
      parts.push(chunk);
      have += chunk.length;
      this.onChunk?.(this.pos + have);
    }
    if (parts.length === 1) {
      this.buf = parts[0];
    } else if (parts.length === 2 && parts[0].length === 0) {
      this.buf = parts[1];
    } else {
      const joined = new Uint8Array(have);
      let at = 0;
      for (const p of parts) {
        joined.set(p, at);
        at += p.length;
      }
      this.buf = joined;
    }
    this.start = this.pos;
    return this.available;
  }

  /** A reader over the available bytes, positioned at `pos`. */
  reader(): ByteReader {
    return new ByteReader(this.buf.subarray(this.pos - this.start), this.pos);
  }

  /** Marks everything before absolute offset `to` as consumed. */
  advance(to: number): void {
    if (to < this.pos || to > this.end) throw new RangeError(`advance to ${to} outside [${this.pos}, ${this.end}]`);
    this.pos = to;
  }

  /** True when at least one more byte exists (reading more input if needed). */
  async hasMore(): Promise<boolean> {
    return (await this.fill(1)) > 0;
  }

  /**
   * Runs `parse` over the window, growing it on TruncatedError while more input exists, up to
   * `limit` bytes. On success the window advances past what `parse` consumed.
   */
  async parse<T>(
    parse: (r: ByteReader) => T,
    opts: { initial?: number; limit: number; what: string; path?: string },
  ): Promise<T> {
    let want = Math.max(1, opts.initial ?? 4096);
    for (;;) {
      await this.fill(want);
      const r = this.reader();
      try {
        const value = parse(r);
        this.advance(r.offset);
        return value;
      } catch (e) {
        if (!(e instanceof TruncatedError) || this.ended) throw e;
        if (this.available >= opts.limit)
          throw new LimitExceededError(opts.what, this.available, opts.limit, this.pos, opts.path ?? '');
        want = Math.min(opts.limit, Math.max(this.available * 2, this.available + 65536));
      }
    }
  }

  /** Reads exactly n bytes (into one buffer), or throws TruncatedError at the end of input. */
  async take(n: number, path = ''): Promise<Uint8Array> {
    await this.fill(n);
    const r = this.reader();
    r.path = () => path;
    const v = r.bytesView(n);
    this.advance(r.offset);
    return v;
  }
}
