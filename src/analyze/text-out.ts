import { OutBuffer, writeHex } from './out-buffer';

/**
 * One growing output buffer for the text formats: pieces are appended to a string that is moved
 * into a Buffer in large blocks, so formatting a stream allocates no object per field.
 */
export class TextOut {
  private buf: Buffer;
  private len = 0;
  private pending = '';

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  write(s: string): void {
    this.pending += s;
    if (this.pending.length > 1 << 16) this.flush();
  }

  private flush(): void {
    const need = this.len + Buffer.byteLength(this.pending);
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.len += this.buf.write(this.pending, this.len);
    this.pending = '';
  }

  /** The bytes written so far (a view of the buffer). */
  bytes(): Buffer {
    this.flush();
    return this.buf.subarray(0, this.len);
  }

  toString(): string {
    return this.bytes().toString('utf8');
  }
}

const HEX2: string[] = Array.from({ length: 256 }, (_, i) => (i < 16 ? '0' : '') + i.toString(16));

// Byte strings are written into one reused buffer and read back as one string: a string per
// byte, joined by +, left a chain of small strings per dump for the collector.
const scratch = new OutBuffer(1 << 12);

/** Bytes as two hex digits each, separated by `sep`. */
export function hexOf(data: ArrayLike<number>, sep = ' ', from = 0, to = data.length): string {
  if (data instanceof Uint8Array && sep.length <= 1 && !(sep.charCodeAt(0) >= 0x80)) {
    // Large dumps get a buffer of their own, so the reused one stays small.
    const out = (to - from) * 3 > scratch.buf.length ? new OutBuffer((to - from) * 3) : scratch;
    out.len = 0;
    writeHex(out, data, from, to, sep ? sep.charCodeAt(0) : 0);
    return out.toString();
  }
  let s = '';
  for (let i = from; i < to; i++) s += (i > from ? sep : '') + HEX2[data[i] & 0xff];
  return s;
}

export const hex2 = (b: number): string => HEX2[b & 0xff];
