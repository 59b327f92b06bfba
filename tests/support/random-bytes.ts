/** Reproducible filler for guest RAM, so tests and the benchmark get the same non-zero pages each run. */

/** Deterministic pseudo-random bytes (mulberry32): our own data for non-zero RAM pages. */
export function pseudoRandomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let a = seed >>> 0;
  for (let i = 0; i < length; i += 4) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    t = (t ^ (t >>> 14)) >>> 0;
    for (let k = 0; k < 4 && i + k < length; k++) out[i + k] = (t >>> (8 * k)) & 0xff;
  }
  return out;
}
