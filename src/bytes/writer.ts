/** Growable big-endian byte sink; `finish()` returns exactly the bytes written. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(initial = 4096) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes it holds before it must grow. */
  get capacity(): number {
    return this.buf.length;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }
  i16(v: number): void {
    this.room(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }
  i32(v: number): void {
    this.room(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }
  u64(v: bigint): void {
    this.room(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
  }
  i64(v: bigint): void {
    this.room(8);
    this.view.setBigInt64(this.pos, v);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  zeros(n: number): void {
    this.room(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }
  /** QEMU's counted string (u8 length + bytes); names are at most 255 bytes. */
  countedString(s: string): void {
    if (s.length > 255) throw new RangeError(`name longer than 255 bytes: ${s.slice(0, 40)}...`);
    this.u8(s.length);
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i) & 0xff);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
