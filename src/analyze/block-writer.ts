import * as fs from 'fs';

/**
 * Positional writes of an extract's RAM block files, made one after another in the thread pool
 * so that the kernel's page-cache work (most of an extract's time) overlaps reading and parsing
 * the stream on the main thread. One write is in flight at a time, so writes land in the order
 * given (a page sent twice ends with its last contents). Bytes are gathered in buffers of
 * `slotBytes` that stay untouched until written: `pageAt` reads a page as it will be once the
 * queue is written (for XBZRLE deltas). `drain()` (awaited by the walk between input chunks)
 * keeps at most `maxQueued` bytes queued; `idle()` waits for all of them. A failed write is
 * thrown by the next call.
 *
 * Below `asyncAfter` bytes writes are made in place: a small extract needs no queue.
 */
export class BlockWriter {
  private readonly queue: Array<{ name: string; buf: Uint8Array; len: number; pos: number }> = [];
  private queued = 0;
  private busy = false;
  /** The block whose descriptor the write in flight uses (it must not be closed meanwhile). */
  inFlight: string | undefined;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private readonly spare: Uint8Array[] = [];
  private total = 0;

  constructor(
    /** Opens (or finds) the descriptor of a block's file. */
    private readonly fdOf: (name: string) => number,
    /** A block's file, named in a failed write's error. */
    private readonly fileOf: (name: string) => string,
    readonly slotBytes = 1 << 20,
    private readonly maxQueued = 3 << 20,
    private readonly asyncAfter = 32 << 20,
  ) {}

  /** A buffer of `slotBytes` to fill and give to `write`, which takes it over. */
  buffer(): Uint8Array {
    return this.spare.pop() ?? new Uint8Array(this.slotBytes);
  }

  /** Writes the first `len` bytes of `buf` (from `buffer()`) to block `name` at `pos`. */
  write(name: string, buf: Uint8Array, len: number, pos: number): void {
    this.check();
    this.total += len;
    if (this.total <= this.asyncAfter && !this.busy) {
      writeAll(this.fdOf(name), buf.subarray(0, len), pos);
      this.spare.push(buf);
      return;
    }
    this.queue.push({ name, buf, len, pos });
    this.queued += len;
    this.pump();
  }

  /**
   * The page of `len` bytes at `pos` of block `name` as it will be once everything queued is
   * written: from the newest queued buffer that holds it, else from the file.
   */
  pageAt(name: string, pos: number, len: number, into: Uint8Array): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const q = this.queue[i];
      if (q.name === name && pos >= q.pos && pos + len <= q.pos + q.len) {
        into.set(q.buf.subarray(pos - q.pos, pos - q.pos + len));
        return;
      }
    }
    if (this.current && this.current.name === name) {
      const c = this.current;
      if (pos >= c.pos && pos + len <= c.pos + c.len) {
        into.set(c.buf.subarray(pos - c.pos, pos - c.pos + len));
        return;
      }
    }
    fs.readSync(this.fdOf(name), into, 0, len, pos);
  }
  /** The write in flight (its buffer is no longer in the queue). */
  private current: { name: string; buf: Uint8Array; len: number; pos: number } | undefined;

  /** Keeps the queue short: waits while more than `maxQueued` bytes are waiting. */
  async drain(): Promise<void> {
    while (this.queued > this.maxQueued && !this.failure) await this.settled();
    this.check();
  }

  /** Waits until every write given so far is done. */
  async idle(): Promise<void> {
    while ((this.busy || this.queue.length) && !this.failure) await this.settled();
    this.check();
  }

  private settled(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  private pump(): void {
    if (this.busy || this.failure) return;
    const job = this.queue.shift();
    if (!job) return;
    this.busy = true;
    this.current = job;
    this.inFlight = job.name;
    let fd: number;
    try {
      fd = this.fdOf(job.name);
    } catch (e) {
      return this.done(job, e);
    }
    const go = (at: number): void =>
      fs.write(fd, job.buf, at, job.len - at, job.pos + at, (e, n) => {
        if (e) return this.done(job, e);
        if (at + n < job.len) return go(at + n);
        this.done(job, undefined);
      });
    go(0);
  }

  private done(job: { name: string; buf: Uint8Array; len: number }, e: unknown): void {
    this.busy = false;
    this.current = undefined;
    this.inFlight = undefined;
    this.queued -= job.len;
    if (e) {
      const err = e as NodeJS.ErrnoException;
      // The CLI reports a refused write (ENOSPC...) by its call and file, exit 2.
      if (err.code && !err.path)
        Object.assign(err, { syscall: 'write', path: this.fileOf(job.name) });
      this.failure = e;
    } else this.spare.push(job.buf);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    this.pump();
  }
}

function writeAll(fd: number, data: Uint8Array, pos: number): void {
  for (let at = 0; at < data.length;) at += fs.writeSync(fd, data, at, data.length - at, pos + at);
}
