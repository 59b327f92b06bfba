import * as fs from 'fs';

/** Where an encoder's bytes go. `write` may keep no reference to its argument after returning. */
export interface ByteSink {
  write(bytes: Uint8Array): void;
  /** Pushes buffered bytes out; awaited between input chunks. */
  flush(): Promise<void> | void;
  /** Bytes written so far. */
  readonly written: number;
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
