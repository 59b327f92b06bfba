import * as fs from 'fs';
import { UsageError } from '../errors';

/** Where an encoder's bytes go. `write` may keep no reference to its argument after returning. */
export interface ByteSink {
  write(bytes: Uint8Array): void;
  /** Pushes buffered bytes out; awaited between input chunks. */
  flush(): Promise<void> | void;
  /** Bytes written so far. */
  readonly written: number;
  /**
   * Offered the next `length` bytes, which are the input's bytes at `inputOffset` unchanged: a
   * sink that already holds them there counts them as written and returns true; false means
   * "write them".
   */
  passThrough?(inputOffset: number, length: number): boolean;
}

/** Collects everything in memory (tests, small streams). */
export class MemorySink implements ByteSink {
  private parts: Uint8Array[] = [];
  written = 0;
  write(bytes: Uint8Array): void {
    this.parts.push(bytes.slice());
    this.written += bytes.length;
  }
  flush(): void {}
  bytes(): Uint8Array {
    const out = new Uint8Array(this.written);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    this.parts = [out];
    return out;
  }
}

/** Writes to an open file descriptor through a fixed buffer, synchronously (so memory stays bounded). */
export class FdSink implements ByteSink {
  private readonly buf: Uint8Array;
  private used = 0;
  written = 0;
  constructor(
    private readonly fd: number,
    size = 1 << 20,
  ) {
    this.buf = new Uint8Array(size);
  }
  write(bytes: Uint8Array): void {
    this.written += bytes.length;
    if (bytes.length > this.buf.length - this.used) {
      this.flush();
      if (bytes.length >= this.buf.length) {
        writeAll(this.fd, bytes);
        return;
      }
    }
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
  }
  flush(): void {
    if (this.used > 0) writeAll(this.fd, this.buf.subarray(0, this.used));
    this.used = 0;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += fs.writeSync(fd, bytes, at, bytes.length - at);
}

/**
 * Writes a stream that is mostly the input unchanged (reencode, edit) to `fd` without copying
 * the unchanged part through the process: the input file is first copied whole by the kernel
 * (fs.copyFile: copy_file_range, in the thread pool while the walk reads), records that pass
 * through at their own offset are skipped, and everything else the encoder writes (device
 * sections, headers, records after an edit changed a length) is written over the copy at its
 * place. At the end the file is cut to the length written.
 *
 * Writes that come before the copy is done are held (up to `holdBytes`, then the next flush
 * waits for the copy), since the copy would overwrite them.
 *
 * The copy is a new file at `tmp` (the empty one `fd` was opened on is unlinked first), made
 * with COPYFILE_EXCL: into an existing file libuv's copy first truncates it to 0, and on ext4 a
 * file truncated to 0 has all its data written to the disk when it is closed (auto_da_alloc),
 * which made every 1 GiB reencode write the disk at once (0.6 s in close), where `cp` leaves it
 * to the kernel's writeback. Patches, the final cut and `fsync` go to the copy's descriptor.
 */
export class CopyPatchSink implements ByteSink {
  written = 0;
  private copied = false;
  private copyError: unknown;
  private readonly copy: Promise<void>;
  private readonly held: Array<{ pos: number; bytes: Uint8Array }> = [];
  private heldBytes = 0;
  /** Write-combining buffer of bytes for positions bufPos .. bufPos+used. */
  private readonly buf: Uint8Array;
  private bufPos = 0;
  private used = 0;
  /** End of the last range taken from the copy, checked against what the copy holds. */
  private skippedEnd = 0;
  /** The copy, open once it is made (every write goes here, not to `fd`). */
  private copyFd: number | undefined;

  constructor(
    fd: number,
    /** The input file, copied to `tmp` (a new file there: `fd`, open on the empty one, only gives the mode). */
    private readonly input: string,
    tmp: string,
    /** The input's size when the walk started: no range past it is taken from the copy. */
    private readonly inputSize: number,
    private readonly holdBytes = 16 << 20,
    size = 1 << 20,
    /** Sync the copy at finish() (the caller's fsync of `fd` syncs the unlinked empty file). */
    private readonly fsync = false,
  ) {
    this.buf = new Uint8Array(size);
    const mode = fs.fstatSync(fd).mode & 0o7777;
    fs.unlinkSync(tmp);
    this.copy = fs.promises.copyFile(input, tmp, fs.constants.COPYFILE_EXCL).then(
      () => {
        this.copied = true;
        try {
          this.copyFd = fs.openSync(tmp, 'r+');
          fs.fchmodSync(this.copyFd, mode); // copyFile gives the copy the input's mode
        } catch (e) {
          this.copyError = e;
        }
      },
      (e: unknown) => {
        this.copied = true;
        this.copyError = e;
      },
    );
  }

  passThrough(inputOffset: number, length: number): boolean {
    if (inputOffset !== this.written || inputOffset + length > this.inputSize) return false;
    this.spill();
    this.written += length;
    this.skippedEnd = this.written;
    return true;
  }

  write(bytes: Uint8Array): void {
    if (this.used > 0 && this.bufPos + this.used !== this.written) this.spill();
    if (bytes.length > this.buf.length - this.used) {
      this.spill();
      if (bytes.length >= this.buf.length) {
        this.put(this.written, bytes);
        this.written += bytes.length;
        return;
      }
    }
    if (this.used === 0) this.bufPos = this.written;
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
    this.written += bytes.length;
  }

  /** Writes (or holds) the combining buffer. */
  private spill(): void {
    if (this.used === 0) return;
    this.put(this.bufPos, this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private put(pos: number, bytes: Uint8Array): void {
    if (this.copied) {
      this.check();
      return writeAllAt(this.copyFd!, bytes, pos);
    }
    this.held.push({ pos, bytes: bytes.slice() });
    this.heldBytes += bytes.length;
  }

  private check(): void {
    if (this.copyError) throw this.copyError;
  }

  private writeHeld(): void {
    this.check();
    for (const h of this.held) writeAllAt(this.copyFd!, h.bytes, h.pos);
    this.held.length = 0;
    this.heldBytes = 0;
  }

  async flush(): Promise<void> {
    if (!this.copied && this.heldBytes < this.holdBytes) return;
    await this.copy;
    this.spill();
    this.writeHeld();
  }

  /**
   * Waits for the copy to end, whatever became of it: a failed run must not remove its
   * temporary file while the copy could still create it again.
   */
  async settle(): Promise<void> {
    await this.copy;
    this.closeCopy();
  }

  private closeCopy(): void {
    if (this.copyFd === undefined) return;
    fs.closeSync(this.copyFd);
    this.copyFd = undefined;
  }

  /** Waits for the copy, writes what is left and cuts the file to the stream's length. */
  async finish(): Promise<void> {
    await this.copy;
    try {
      this.spill();
      this.writeHeld();
      const fd = this.copyFd!;
      const copiedSize = fs.fstatSync(fd).size;
      if (copiedSize < this.skippedEnd)
        throw new UsageError(
          `${this.input}: the file changed while it was read (its copy has ${copiedSize} bytes, the stream ${this.skippedEnd})`,
        );
      if (copiedSize !== this.written) fs.ftruncateSync(fd, this.written);
      if (this.fsync) fs.fsyncSync(fd);
    } finally {
      this.closeCopy();
    }
  }
}

function writeAllAt(fd: number, bytes: Uint8Array, pos: number): void {
  for (let at = 0; at < bytes.length;)
    at += fs.writeSync(fd, bytes, at, bytes.length - at, pos + at);
}
