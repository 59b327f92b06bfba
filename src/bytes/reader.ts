import { TruncatedError } from '../errors';

/**
 * Big-endian cursor over bytes already in memory. `base` is the absolute stream offset of
 * bytes[0], so errors point into the file, not the slice. Every read checks the bytes left
 * first: a short input is a TruncatedError, never a RangeError. A reader knows offsets, not
 * what it reads: its errors carry no path, and whoever drives it (the walker, the loader) places
 * them (`readingAt`, `placed` in errors.ts).
 */
export class ByteReader {
  // Made on first use: most readers of small struct bodies never read through it.
  private dataView: DataView | undefined;
  pos = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly base = 0,
  ) {}

  private get view(): DataView {
    return (this.dataView ??= new DataView(
      this.bytes.buffer,
      this.bytes.byteOffset,
      this.bytes.byteLength,
    ));
  }

  get offset(): number {
    return this.base + this.pos;
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  get atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** Throws unless n more bytes are available. */
  need(n: number): void {
    if (n > this.bytes.length - this.pos)
      throw new TruncatedError(n, this.remaining, this.offset, '');
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }
  i8(): number {
    this.need(1);
    return this.view.getInt8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  i16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }
  /** A view of the next n bytes (no copy). */
  bytesView(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  /** A copy of the next n bytes, so the state does not pin the whole input. */
  bytesCopy(n: number): Uint8Array {
    return this.bytesView(n).slice();
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  /** QEMU's counted string: u8 length then that many bytes, no NUL. */
  countedString(): string {
    const n = this.u8();
    return latin1(this.bytesView(n));
  }
  /** The byte at pos+ahead, or undefined past the end (peeking never throws). */
  peek(ahead = 0): number | undefined {
    const i = this.pos + ahead;
    return i < this.bytes.length ? this.bytes[i] : undefined;
  }
  /** n bytes starting at pos+ahead, or undefined when fewer are there. */
  peekBytes(ahead: number, n: number): Uint8Array | undefined {
    const i = this.pos + ahead;
    return i + n <= this.bytes.length ? this.bytes.subarray(i, i + n) : undefined;
  }
}

/** Names on the wire are bytes; QEMU treats them as C strings, so map bytes 1:1 to code points. */
export function latin1(bytes: Uint8Array): string {
  // One flat string: a string built by += is a chain of one node per byte until it is flattened
  // (kilobytes for a 255-byte name, and each Map lookup of it flattens it again).
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096)
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  return s;
}
