import type { ChunkSource } from '../stream/source';

/**
 * Chunks pushed as they arrive from a socket, read by the stream walker: a ChunkSource with no
 * random access. It holds at most what the walker has not read yet; the owner pauses the socket
 * while `full` and resumes it on `onSpace`, so a slow decoder slows the source instead of
 * growing memory.
 */
const EMPTY = new Uint8Array(0);
/**
 * Bytes the decoder gets between two turns of the event loop: about a millisecond of decoding, and
 * few turns (each is a poll of the sockets) per GiB.
 */
const SLICE_BYTES = 1024 * 1024;

export class ChunkQueue implements ChunkSource {
  private readonly chunks: Uint8Array[] = [];
  private head = 0;
  private bytes = 0;
  private ended = false;
  private waiting?: () => void;
  private sinceYield = 0;
  /** Called when the walker is about to wait for input (nothing buffered): the tap forwards held bytes here. */
  onStarve?: () => void;
  /** Called when `full` turns false. */
  onSpace?: () => void;
  /** Called after the walker took bytes (it copies them: the chunks they came from are free). */
  onRead?: () => void;

  constructor(private readonly limit: number) {}

  get full(): boolean {
    return this.bytes >= this.limit;
  }

  get buffered(): number {
    return this.bytes;
  }

  push(chunk: Uint8Array): void {
    if (this.ended) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  /** Drops everything and accepts nothing more (the decoder stopped). */
  discard(): void {
    this.chunks.length = 0;
    this.head = 0;
    this.bytes = 0;
    this.end();
    this.onSpace?.();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  /** Copies queued bytes into the walker's own buffer, so it refills one buffer instead of joining chunks. */
  async readInto(buf: Uint8Array, offset: number, length: number): Promise<number> {
    if (this.sinceYield >= SLICE_BYTES) await this.yieldNow();
    length = Math.min(length, SLICE_BYTES);
    for (;;) {
      if (this.head < this.chunks.length) {
        let got = 0;
        const wasFull = this.full;
        while (got < length && this.head < this.chunks.length) {
          const c = this.chunks[this.head];
          const n = Math.min(c.length, length - got);
          buf.set(n === c.length ? c : c.subarray(0, n), offset + got);
          got += n;
          if (n === c.length) this.chunks[this.head++] = EMPTY;
          else this.chunks[this.head] = c.subarray(n);
        }
        this.bytes -= got;
        this.sinceYield += got;
        if (this.head > 1024) {
          this.chunks.splice(0, this.head);
          this.head = 0;
        }
        if (wasFull && !this.full) this.onSpace?.();
        this.onRead?.();
        return got;
      }
      if (this.ended) return 0;
      this.onStarve?.();
      if (this.head < this.chunks.length || this.ended) continue;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  /**
   * Queued input resolves reads at once, as microtasks: without a turn of the event loop now and
   * then, a decoder with megabytes queued would keep the proxy from forwarding meanwhile.
   */
  private async yieldNow(): Promise<void> {
    this.sinceYield = 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  async read(): Promise<Uint8Array | null> {
    if (this.sinceYield >= SLICE_BYTES) await this.yieldNow();
    for (;;) {
      if (this.head < this.chunks.length) {
        // A copy: the tap reuses the memory of chunks once the walker has read them.
        const c = this.chunks[this.head++].slice();
        if (this.head > 1024) {
          this.chunks.splice(0, this.head);
          this.head = 0;
        }
        const wasFull = this.full;
        this.bytes -= c.length;
        this.sinceYield += c.length;
        if (wasFull && !this.full) this.onSpace?.();
        return c;
      }
      if (this.ended) return null;
      this.onStarve?.();
      if (this.head < this.chunks.length || this.ended) continue;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  async close(): Promise<void> {
    this.discard();
  }
}
