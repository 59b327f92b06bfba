/**
 * How `vmstate edit --set` values are written on the command line, for every kind of field:
 * integers as a shell user writes them, bools, and hex bytes of an exact length.
 */

/** Decimal, 0x.., 0o.., 0b.., optionally negative, `_` allowed as a separator. */
export function parseInteger(text: string): bigint | undefined {
  const t = text.replace(/_/g, '').trim();
  const m = /^(-)?(0x[0-9a-f]+|0o[0-7]+|0b[01]+|\d+)$/i.exec(t);
  if (!m) return undefined;
  const v = BigInt(m[2]);
  return m[1] ? -v : v;
}

/** true/false/1/0, or undefined. */
export function parseBool(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  return undefined;
}

/** Hex bytes ("0x0011", "00 11", "00:11") of exactly `size` bytes, or what is wrong with them. */
export function parseHexBytes(
  text: string,
  size: number,
): Uint8Array | { problem: 'not-hex' | 'length'; given?: number } {
  const hex = text.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(hex)) return { problem: 'not-hex' };
  if (hex.length / 2 !== size) return { problem: 'length', given: hex.length / 2 };
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}
