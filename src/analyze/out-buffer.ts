/** TypedArray's own fill (Buffer's adds argument checks in JS). */
const fillBytes = Uint8Array.prototype.fill;

/** How many short texts a buffer keeps the bytes of (see OutBuffer.text). */
const SHORT_TEXTS_KEPT = 1024;

/**
 * One growing byte buffer that formatters write ASCII text into, instead of building many small
 * strings and joining them: the output is written to stdout as these bytes, in one call.
 */
export class OutBuffer {
  buf: Buffer;
  len = 0;
  /**
   * The bytes of short texts this buffer wrote (the formats' punctuation and keys, field
   * names, small values), copied again in one native call instead of a charCodeAt per
   * character: in a short run's unoptimized code 2-3 times slower for a text of 8 characters,
   * and it made `text` hot enough for TurboFan to compile it in every `--format json` run of a
   * 0.2 MB stream. Bounded, as a hostile stream has any number of distinct values; kept per
   * buffer, not in module state (nothing for the start-up snapshot to hold).
   */
  private shortTexts: Map<string, Uint8Array> | undefined;
  /** The same for quoted(): the quoted bytes of short printable strings (names, types). */
  private quotedTexts: Map<string, Uint8Array> | undefined;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Text whose characters are all below U+0100 (each becomes one byte). */
  text(s: string): void {
    const n = s.length;
    this.ensure(n);
    if (n < 32) {
      const b = this.buf;
      let at = this.len;
      const kept = n >= 3 ? (this.shortTexts ??= new Map()) : undefined;
      if (kept) {
        const known = kept.get(s);
        if (known !== undefined) {
          b.set(known, at);
          this.len = at + n;
          return;
        }
      }
      const from = at;
      for (let i = 0; i < n; i++) b[at++] = s.charCodeAt(i);
      this.len = at;
      if (kept && kept.size < SHORT_TEXTS_KEPT) kept.set(s, new Uint8Array(b.subarray(from, at)));
    } else this.len += this.buf.write(s, this.len, n, 'latin1');
  }

  /** Any text, as UTF-8. */
  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  /** JSON.stringify(s), written without making that string when s is printable ASCII. */
  jsonString(s: string): void {
    if (!this.quoted(s)) this.utf8(JSON.stringify(s));
  }

  /**
   * `"s"` when s is printable ASCII without a quote or backslash, where JSON and Python's
   * ensure_ascii agree (true); else nothing is written (false).
   */
  quoted(s: string): boolean {
    const n = s.length;
    this.ensure(n + 2);
    const b = this.buf;
    let at = this.len;
    const kept = n < 32 ? (this.quotedTexts ??= new Map()) : undefined;
    if (kept) {
      const known = kept.get(s);
      if (known !== undefined) {
        b.set(known, at);
        this.len = at + n + 2;
        return true;
      }
    }
    const from = at;
    b[at++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
      b[at++] = c;
    }
    b[at++] = 0x22;
    this.len = at;
    if (kept && kept.size < SHORT_TEXTS_KEPT) kept.set(s, new Uint8Array(b.subarray(from, at)));
    return true;
  }

  /** A safe integer in decimal, as String(n) writes it. */
  int(n: number): void {
    if (n >= 0 && n < 10 && n === (n | 0)) {
      // Most registers hold a one-digit value (zero above all).
      this.ensure(1);
      this.buf[this.len++] = 0x30 + n;
      return;
    }
    if (n < 0) {
      if (n === Math.floor(n) && n > -1e15) {
        this.byte(0x2d);
        return this.int(-n);
      }
    } else if (n < 1e15 && n === Math.floor(n)) {
      let digits = 1;
      for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
      this.ensure(digits);
      const b = this.buf;
      let at = this.len + digits;
      this.len = at;
      do {
        const q = Math.floor(n / 10);
        b[--at] = 0x30 + (n - q * 10);
        n = q;
      } while (n > 0);
      return;
    }
    this.text(String(n));
  }

  /** Bytes already formatted (e.g. another OutBuffer's). */
  append(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.len++] = c;
  }

  /** '\n' and `spaces` spaces. */
  newline(spaces: number): void {
    this.ensure(spaces + 1);
    const b = this.buf;
    const at = this.len;
    b[at] = 0x0a;
    // One native fill, not a store per space: in unoptimized code 2.3x faster for 4-16 spaces,
    // and the loop made newline the one function TurboFan compiled in a qemu-format run.
    fillBytes.call(b, 0x20, at + 1, at + 1 + spaces);
    this.len = at + 1 + spaces;
  }

  /** The bytes written so far (a view). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  toString(): string {
    return this.buf.toString('latin1', 0, this.len);
  }
}

const HEX = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, '0');
  HEX[2 * i] = h.charCodeAt(0);
  HEX[2 * i + 1] = h.charCodeAt(1);
}

/** HEX's two digits of a byte as one little-endian 16-bit value (first digit low). */
const HEX_PAIR = new Uint16Array(256);
for (let i = 0; i < 256; i++) HEX_PAIR[i] = HEX[2 * i] | (HEX[2 * i + 1] << 8);
/** The word stores of writeHex lay their bytes out in this order only on a little-endian CPU. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Device state is mostly zeros (register files, unused rings and buffers: 99.5% of the bytes of a
 * q35 VM with e1000, virtio and usb devices), so the long dumps look for all-zero stretches of this
 * many bytes, and copy their text in one native call instead of formatting each byte.
 */
export const ZERO_STRETCH = 64;
/** Four stretches at once, tried first: a dump's long runs of zeros cost a quarter of the checks. */
export const ZERO_RUN = 4 * ZERO_STRETCH;
/**
 * The longest span one compare checks. After four zero stretches the span checked doubles, up to
 * this: most zero-check calls of a device-heavy stream start a run of 4 KiB or more (1,024 of its
 * 1,363), and each call of Buffer's compare, argument checks in JS, cost about a microsecond in a
 * short run's unoptimized code: reason enough for TurboFan to compile node's argument-check
 * wrapper in the middle of a qemu-format dump, a 4 ms stall in a quarter of the runs.
 */
const ZERO_CHECK_MAX = 16 * 1024;
const ZEROS = Buffer.alloc(ZERO_CHECK_MAX);

/**
 * Whether `bytes[at..at+n)` (n <= ZERO_CHECK_MAX) are all zero: the ends first (a stretch of data
 * rarely has both zero), then one native compare.
 */
function zeroStretch(bytes: Uint8Array, at: number, n: number): boolean {
  return (
    at + n <= bytes.length &&
    (bytes[at] | bytes[at + n - 1]) === 0 &&
    ZEROS.compare(bytes, at, at + n, 0, n) === 0
  );
}

/**
 * How many of the `left` bytes from `at` are zero, in whole units (unit <= ZERO_STRETCH): four
 * units or more (the span checked doubling while it stays zero), else one, else 0. The dumps'
 * one test for zeros, in bytes or in whole elements.
 */
export function zeroBytesAt(bytes: Uint8Array, at: number, left: number, unit: number): number {
  let n = 4 * unit;
  if (left >= n && zeroStretch(bytes, at, n)) {
    for (;;) {
      const more = Math.min(n, ZERO_CHECK_MAX, left - n);
      const span = more - (more % unit);
      if (span === 0 || !zeroStretch(bytes, at + n, span)) return n;
      n += span;
    }
  }
  if (left >= unit && zeroStretch(bytes, at, unit)) return unit;
  return 0;
}

/** ZERO_RUN zero bytes as writeHex prints them after the first byte: "hh" or `sep` "hh" each. */
const zeroHexTexts = new Map<number, Uint8Array>();
function zeroHexText(sep: number): Uint8Array {
  let t = zeroHexTexts.get(sep);
  if (!t) {
    const unit = sep ? 3 : 2;
    t = new Uint8Array(ZERO_RUN * unit).fill(0x30);
    if (sep) for (let i = 0; i < t.length; i += 3) t[i] = sep;
    zeroHexTexts.set(sep, t);
  }
  return t;
}

/** `bytes[from..to)` as two lowercase hex digits each, separated by `sep` (0 for none). */
export function writeHex(
  out: OutBuffer,
  bytes: Uint8Array,
  from: number,
  to: number,
  sep: number,
): void {
  const n = to - from;
  if (n <= 0) return;
  out.ensure(n * 3);
  const b = out.buf;
  let at = out.len;
  let v = bytes[from] * 2;
  b[at] = HEX[v];
  b[at + 1] = HEX[v + 1];
  at += 2;
  let i = from + 1;
  // No test per byte in the loops: a dump runs once per process, mostly before V8 optimizes it.
  if (sep && to - i >= 16 && LITTLE_ENDIAN) {
    // Bytes until the output is word-aligned (at moves by 3, so at most 3), then 4 bytes into 3
    // aligned 32-bit stores ("_hh_" "hh_h" "_hhh" with _ the separator) instead of 12 byte
    // stores: the long buffers of --format json (NIC and USB state) made this the top function.
    for (; (b.byteOffset + at) & 3; i++) {
      v = bytes[i] * 2;
      b[at] = sep;
      b[at + 1] = HEX[v];
      b[at + 2] = HEX[v + 1];
      at += 3;
    }
    const words = new Uint32Array(b.buffer, b.byteOffset + at, (((to - i) >> 2) * 12) >> 2);
    const s24 = sep << 24;
    const s16 = sep << 16;
    const s8 = sep << 8;
    const zeros = zeroHexText(sep);
    const start = at;
    let w = 0;
    // Stretches of ZERO_STRETCH bytes (a multiple of 4: the stores stay aligned after a copy).
    for (const end = to - 3; i < end;) {
      const zero = zeroBytesAt(bytes, i, to - i, ZERO_STRETCH);
      if (zero) {
        // Their text: the first ZERO_RUN bytes' copied, then the text written so far doubled.
        const at0 = start + w * 4;
        const first = Math.min(zero, ZERO_RUN);
        b.set(first === ZERO_RUN ? zeros : zeros.subarray(0, first * 3), at0);
        for (let done = first; done < zero;) {
          const n = Math.min(done, zero - done);
          b.copyWithin(at0 + done * 3, at0, at0 + n * 3);
          done += n;
        }
        w += (zero * 3) >> 2;
        i += zero;
        continue;
      }
      for (const stop = Math.min(end, i + ZERO_STRETCH); i < stop; i += 4) {
        const x0 = bytes[i];
        const x2 = bytes[i + 2] * 2;
        words[w] = sep | (HEX_PAIR[x0] << 8) | s24;
        words[w + 1] = HEX_PAIR[bytes[i + 1]] | s16 | (HEX[x2] << 24);
        words[w + 2] = HEX[x2 + 1] | s8 | (HEX_PAIR[bytes[i + 3]] << 16);
        w += 3;
      }
    }
    at += w * 4;
  }
  if (sep)
    for (; i < to; i++) {
      v = bytes[i] * 2;
      b[at] = sep;
      b[at + 1] = HEX[v];
      b[at + 2] = HEX[v + 1];
      at += 3;
    }
  else
    for (; i < to; i++) {
      v = bytes[i] * 2;
      b[at] = HEX[v];
      b[at + 1] = HEX[v + 1];
      at += 2;
    }
  out.len = at;
}
