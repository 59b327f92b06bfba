/**
 * `diff --ram pages` compares pages by a 64-bit hash: a page that differs in any one word (or
 * byte) must hash differently, and the same bytes must hash the same wherever they sit in the
 * input window (an aligned view or an unaligned copy).
 */
import fc from 'fast-check';
import { pageHash } from '../src/diff/page-hashes';

const page = fc.uint8Array({ minLength: 4096, maxLength: 4096 });

test('the same page hashes the same at every alignment', () => {
  fc.assert(
    fc.property(page, fc.integer({ min: 0, max: 7 }), (p, shift) => {
      const window = new Uint8Array(4096 + 16);
      window.set(p, shift);
      expect(pageHash(window.subarray(shift, shift + 4096))).toEqual(pageHash(p));
    }),
    { numRuns: 200 },
  );
});

test('a page changed in one byte hashes differently', () => {
  fc.assert(
    fc.property(
      page,
      fc.integer({ min: 0, max: 4095 }),
      fc.integer({ min: 1, max: 255 }),
      fc.integer({ min: 0, max: 3 }),
      (p, at, delta, shift) => {
        const q = new Uint8Array(4096 + 4);
        q.set(p, shift);
        q[shift + at] ^= delta;
        expect(pageHash(q.subarray(shift, shift + 4096))).not.toEqual(pageHash(p));
      },
    ),
    { numRuns: 500 },
  );
});

test('pages of other sizes: every byte counts, the tail too', () => {
  for (const size of [1, 3, 4, 31, 32, 33, 100, 16384]) {
    const p = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
    for (const at of [0, size - 1, size >> 1]) {
      const q = p.slice();
      q[at] ^= 0x80;
      expect(pageHash(q)).not.toEqual(pageHash(p));
    }
  }
});
