import * as fs from 'fs';
import { Worker } from 'worker_threads';

/**
 * Positional writes done by a second thread, so that writing an extract's RAM block files (the
 * kernel's page-cache work, most of an extract's time) overlaps reading and parsing the stream.
 * Bytes are copied into one of a few shared buffers and written in the order given; `idle()`
 * waits until everything given has been written (before reading back a page, closing a file or
 * finishing). Errors of the thread come back, with their errno code, at the next call.
 *
 * Below `threadAfter` bytes the writes are made in place: a small extract is not worth a thread.
 */
export class BlockWriter {
  private worker: Worker | undefined;
  /** Per slot 0 (free) or 1 (being written); the last word is 1 once the thread failed. */
  private state: Int32Array | undefined;
  private slots: Uint8Array[] = [];
  private errorText: Uint8Array | undefined;
  private next = 0;
  private total = 0;

  constructor(
    readonly slotBytes = 1 << 20,
    private readonly slotCount = 4,
    private readonly threadAfter = 32 << 20,
  ) {}

  /** A buffer of `slotBytes` to fill and hand to `write` (valid until then). */
  buffer(): Uint8Array {
    if (!this.worker) return this.local ?? (this.local = new Uint8Array(this.slotBytes));
    const i = this.next;
    Atomics.wait(this.state!, i, 1);
    this.check();
    return this.slots[i];
  }
  private local: Uint8Array | undefined;

  /** Writes the first `len` bytes of the last `buffer()` to `fd` at `pos`. */
  write(fd: number, len: number, pos: number): void {
    this.total += len;
    if (!this.worker) {
      writeAll(fd, this.local!.subarray(0, len), pos);
      if (this.total >= this.threadAfter) this.start();
      return;
    }
    const i = this.next;
    this.next = (i + 1) % this.slotCount;
    Atomics.store(this.state!, i, 1);
    this.worker.postMessage([i, fd, len, pos]);
  }

  /** Writes bytes that are not in a slot (a block's single oversized write): in order, in place. */
  writeDirect(fd: number, data: Uint8Array, pos: number): void {
    this.idle();
    writeAll(fd, data, pos);
  }

  /** Waits until every write given so far is done. */
  idle(): void {
    if (!this.state) return;
    for (let i = 0; i < this.slotCount; i++) Atomics.wait(this.state, i, 1);
    this.check();
  }

  close(): void {
    if (!this.worker) return;
    try {
      this.idle();
    } finally {
      void this.worker.terminate();
      this.worker = undefined;
    }
  }

  private check(): void {
    if (!this.state || Atomics.load(this.state, this.slotCount) === 0) return;
    const text = Buffer.from(this.errorText!).toString('utf8').replace(/\0+$/, '');
    const [code, ...message] = text.split('\n');
    throw Object.assign(new Error(message.join('\n') || code), { code: code || undefined });
  }

  private start(): void {
    const sab = new SharedArrayBuffer(4 * (this.slotCount + 1));
    this.state = new Int32Array(sab);
    const buffers = Array.from(
      { length: this.slotCount },
      () => new SharedArrayBuffer(this.slotBytes),
    );
    this.slots = buffers.map((b) => new Uint8Array(b));
    const errors = new SharedArrayBuffer(1024);
    this.errorText = new Uint8Array(errors);
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { state: sab, buffers, errors },
    });
    this.worker.unref();
  }
}

/** The thread: writes each slot it is given, then marks it free (or records the failure). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('worker_threads');
const fs = require('fs');
const state = new Int32Array(workerData.state);
const slots = workerData.buffers.map((b) => new Uint8Array(b));
const errors = new Uint8Array(workerData.errors);
const last = state.length - 1;
parentPort.on('message', ([i, fd, len, pos]) => {
  try {
    if (Atomics.load(state, last) === 0)
      for (let at = 0; at < len; ) at += fs.writeSync(fd, slots[i], at, len - at, pos + at);
  } catch (e) {
    errors.set(Buffer.from(((e && e.code) || '') + '\\n' + String((e && e.message) || e)).subarray(0, errors.length - 1));
    Atomics.store(state, last, 1);
  }
  Atomics.store(state, i, 0);
  Atomics.notify(state, i);
});
`;

function writeAll(fd: number, data: Uint8Array, pos: number): void {
  for (let at = 0; at < data.length;) at += fs.writeSync(fd, data, at, data.length - at, pos + at);
}
