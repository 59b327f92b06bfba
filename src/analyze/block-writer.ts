import * as fs from 'fs';
import { TruncatedError } from '../errors';
import type { FilePages } from '../stream/file-pages';

interface Segment {
  name: string;
  pos: number;
  /** Where its bytes start in the slot. */
  at: number;
  len: number;
}

interface Slot {
  buf: Uint8Array;
  used: number;
  segments: Segment[];
}

/**
 * Positional writes of an extract's RAM block files, made one after another in the thread pool
 * so that the kernel's page-cache work (most of an extract's time) overlaps reading and parsing
 * the stream on the main thread. Pages are copied into slots of `slotBytes`; pages that follow
 * each other in a block are one segment, written in one call (a GiB of RAM is 262,144 pages:
 * one system call each cost more than copying them). One write is in flight at a time, so writes
 * land in the order given (a page sent twice ends with its last contents), and a slot stays
 * untouched until written: `pageAt` reads a page as it will be once everything is written (for
 * XBZRLE deltas). `drain()` (awaited by the walk between input chunks) keeps at most
 * `maxSlots` slots queued, so memory is bounded however scattered the pages; `idle()` waits for
 * all of them. A failed write is thrown by the next call.
 *
 * Below `asyncAfter` bytes the slots are written in place: a small extract needs no queue.
 */
export class BlockWriter {
  private readonly queue: Slot[] = [];
  private fill: Slot | undefined;
  /** The slot being written. */
  private current: Slot | undefined;
  private busy = false;
  /** The block whose descriptor the write in flight uses (it must not be closed meanwhile). */
  inFlight: string | undefined;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private readonly spare: Uint8Array[] = [];
  private total = 0;
  /** A run of pages was refused since the last drain(), as writes were queued. */
  private refused = false;
  /** Bytes written straight since the event loop last had a turn. */
  private sinceTurn = 0;

  constructor(
    /** Opens (or finds) the descriptor of a block's file. */
    private readonly fdOf: (name: string) => number,
    /** A block's file, named in a failed write's error. */
    private readonly fileOf: (name: string) => string,
    readonly slotBytes = 1 << 20,
    private readonly maxSlots = 3,
    private readonly asyncAfter = 32 << 20,
  ) {}

  /** Writes `data` (at most `slotBytes`) to block `name` at `pos`, once its slot is handed on. */
  add(name: string, data: Uint8Array, pos: number): void {
    this.check();
    let s = this.fill;
    if (s && s.used + data.length > s.buf.length) {
      this.submit();
      s = undefined;
    }
    if (!s)
      s = this.fill = {
        buf: this.spare.pop() ?? new Uint8Array(this.slotBytes),
        used: 0,
        segments: [],
      };
    s.buf.set(data, s.used);
    const last = s.segments[s.segments.length - 1];
    if (last && last.name === name && last.pos + last.len === pos) last.len += data.length;
    else s.segments.push({ name, pos, at: s.used, len: data.length });
    s.used += data.length;
  }

  /**
   * Writes `count` pages of `pageSize` bytes that sit in `b` every `stride` bytes from `from`
   * (raw page records: each page after its 8-byte header) to block `name` at `pos`, now and
   * straight from `b` (pwritev: no copy into a slot), when nothing is queued or in flight, so
   * the writes stay in the order given. Returns false, having written nothing, otherwise.
   */
  writeStrided(
    name: string,
    b: Uint8Array,
    from: number,
    stride: number,
    pageSize: number,
    count: number,
    pos: number,
  ): boolean {
    this.check();
    if (this.busy || this.queue.length > 0) {
      this.refused = true; // drain() waits for the queue to empty, then runs go straight again
      return false;
    }
    const s = this.fill;
    if (s) {
      // Pages gathered before the run (a block's first page...): written here, first.
      this.fill = undefined;
      this.total += s.used;
      this.writeSlot(s);
    }
    const fd = this.fdOf(name);
    const views: Uint8Array[] = [];
    for (let i = 0; i < count;) {
      const n = Math.min(count - i, IOV_MAX);
      views.length = n;
      for (let k = 0, at = from + i * stride; k < n; k++, at += stride)
        views[k] = b.subarray(at, at + pageSize);
      const want = n * pageSize;
      const wrote = fs.writevSync(fd, views, pos + i * pageSize);
      // A short write (a full disk says so on the next call): the rest page by page.
      if (wrote < want)
        for (let done = wrote; done < want;) {
          const k = Math.floor(done / pageSize);
          const inPage = done - k * pageSize;
          done += fs.writeSync(fd, views[k], inPage, pageSize - inPage, pos + i * pageSize + done);
        }
      i += n;
    }
    this.total += count * pageSize;
    this.sinceTurn += count * pageSize;
    return true;
  }

  /**
   * writeStrided for pages that stay in the input file (`file`, from its offset `from`): written
   * by the kernel from the file's mapping, one copy. The same conditions and order as writeStrided;
   * a file cut meanwhile is a TruncatedError at the first page that is not there.
   */
  writeFromFile(
    name: string,
    file: FilePages,
    from: number,
    stride: number,
    pageSize: number,
    count: number,
    pos: number,
  ): boolean {
    this.check();
    if (this.busy || this.queue.length > 0) {
      this.refused = true;
      return false;
    }
    const s = this.fill;
    if (s) {
      this.fill = undefined;
      this.total += s.used;
      this.writeSlot(s);
    }
    let wrote: number;
    try {
      wrote = file.writePages(from, stride, pageSize, count, this.fdOf(name), pos);
    } catch (e) {
      throw (this.failure = this.named(e, name));
    }
    if (wrote < count * pageSize) {
      const page = Math.floor(wrote / pageSize);
      throw new TruncatedError(
        stride,
        0,
        from - (stride - pageSize) + page * stride,
        `ram > ${name}`,
      );
    }
    this.total += wrote;
    this.sinceTurn += wrote;
    return true;
  }

  /** Hands the slot being filled on to be written. */
  submit(): void {
    const s = this.fill;
    if (!s) return;
    this.fill = undefined;
    this.total += s.used;
    if (this.total <= this.asyncAfter && !this.busy && this.queue.length === 0) {
      for (const g of s.segments)
        writeAll(this.fdOf(g.name), s.buf.subarray(g.at, g.at + g.len), g.pos);
      this.spare.push(s.buf);
      return;
    }
    this.queue.push(s);
    this.pump();
  }

  /**
   * The page of `len` bytes at `pos` of block `name` as it will be once everything given is
   * written: from the newest slot that holds it, else from the file.
   */
  pageAt(name: string, pos: number, len: number, into: Uint8Array): void {
    const slots = [this.fill, ...[...this.queue].reverse(), this.current];
    for (const s of slots) {
      if (!s) continue;
      for (let i = s.segments.length - 1; i >= 0; i--) {
        const g = s.segments[i];
        if (g.name === name && pos >= g.pos && pos + len <= g.pos + g.len) {
          const from = g.at + pos - g.pos;
          into.set(s.buf.subarray(from, from + len));
          return;
        }
      }
    }
    fs.readSync(this.fdOf(name), into, 0, len, pos);
  }

  /**
   * Keeps the queue short: waits while more than `maxSlots` slots are waiting, or until all are
   * written when a run of pages could not go straight (writeStrided) for them.
   */
  async drain(): Promise<void> {
    if (this.sinceTurn >= TURN_BYTES) {
      // Straight writes and reads never wait on the loop: give it a turn, so a SIGINT's handler
      // runs (and removes the temporary directory) during the extract, not after it.
      this.sinceTurn = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.refused) {
      this.refused = false;
      this.submit();
      return this.until(() => !this.busy && this.queue.length === 0);
    }
    await this.until(() => this.queue.length <= this.maxSlots);
  }

  /** Writes a slot here and now. */
  private writeSlot(s: Slot): void {
    let name = '';
    try {
      for (const g of s.segments) {
        name = g.name;
        writeAll(this.fdOf(g.name), s.buf.subarray(g.at, g.at + g.len), g.pos);
      }
    } catch (e) {
      throw (this.failure = this.named(e, name));
    }
    this.spare.push(s.buf);
  }

  /** Writes what was given and waits until it is all done. */
  async idle(): Promise<void> {
    this.submit();
    await this.until(() => !this.busy && this.queue.length === 0);
  }

  /**
   * Waits for `enough`, meanwhile writing here the scattered slots that reach the head of the
   * queue: many small writes cost more as thread-pool round trips than made in place.
   */
  private async until(enough: () => boolean): Promise<void> {
    while (!this.failure && !enough()) {
      const head = this.queue[0];
      if (!this.busy && head && scattered(head)) {
        this.queue.shift();
        let name = '';
        try {
          for (const g of head.segments) {
            name = g.name;
            writeAll(this.fdOf(g.name), head.buf.subarray(g.at, g.at + g.len), g.pos);
          }
          this.spare.push(head.buf);
        } catch (e) {
          this.failure = this.named(e, name);
        }
        this.pump();
      } else await this.settled();
    }
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
    const head = this.queue[0];
    if (!head || scattered(head)) return; // written by until(), in order
    const slot = this.queue.shift()!;
    this.busy = true;
    this.current = slot;
    const segment = (k: number): void => {
      if (k === slot.segments.length) return this.done(slot, undefined, '');
      const g = slot.segments[k];
      this.inFlight = g.name;
      let fd: number;
      try {
        fd = this.fdOf(g.name);
      } catch (e) {
        return this.done(slot, e, g.name);
      }
      const go = (at: number): void =>
        fs.write(fd, slot.buf, g.at + at, g.len - at, g.pos + at, (e, n) => {
          if (e) return this.done(slot, e, g.name);
          if (at + n < g.len) return go(at + n);
          segment(k + 1);
        });
      go(0);
    };
    segment(0);
  }

  /** The CLI reports a refused write (ENOSPC...) by its call and file, exit 2. */
  private named(e: unknown, name: string): unknown {
    const err = e as NodeJS.ErrnoException;
    if (err.code && !err.path) Object.assign(err, { syscall: 'write', path: this.fileOf(name) });
    return e;
  }

  private done(slot: Slot, e: unknown, name: string): void {
    this.busy = false;
    this.current = undefined;
    this.inFlight = undefined;
    if (e) this.failure = this.named(e, name);
    else this.spare.push(slot.buf);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    this.pump();
  }
}

/** Bytes written straight between two turns of the event loop (drain). */
const TURN_BYTES = 32 << 20;

/** Buffers one writev takes (Linux's IOV_MAX). */
const IOV_MAX = 1024;

/** A slot of many short segments (pages here and there): written in place, not in the pool. */
function scattered(s: Slot): boolean {
  return s.segments.length > 16;
}

function writeAll(fd: number, data: Uint8Array, pos: number): void {
  for (let at = 0; at < data.length;) at += fs.writeSync(fd, data, at, data.length - at, pos + at);
}
