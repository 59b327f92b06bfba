/**
 * The VM description is found by its framing even when its be32 length holds a 0x06 byte
 * (issue 8: a length of 87,814 = 00 01 57 06 made the stream decode silently by the catalog).
 */
import { locateVmdescFromEnd, locateVmdescInBytes } from '../src/stream/vmdesc';
import { bytesSource } from '../src/stream/source';

/** EOF, then 0x06 + be32 length + a JSON text of exactly `length` bytes. */
function tail(length: number): Uint8Array {
  const head = '{"page_size": 4096, "devices": [], "pad": "';
  const json = head + 'x'.repeat(length - head.length - 2) + '"}';
  const out = new Uint8Array(1 + 5 + length);
  out[0] = 0;
  out[1] = 0x06;
  new DataView(out.buffer).setUint32(2, length);
  out.set(new TextEncoder().encode(json), 6);
  return out;
}

test.each([87_814, 0x0606, 0x060606, 300])('length %i: found at its marker', async (length) => {
  const bytes = tail(length);
  expect(locateVmdescInBytes(bytes, 100)?.offset).toBe(101);
  const found = await locateVmdescFromEnd(bytesSource(bytes));
  expect(found?.kind).toBe('found');
  expect(found?.offset).toBe(1);
  expect(found?.kind === 'found' && found.json.length).toBe(length);
});

test('a description cut short: found as truncated, not as none', async () => {
  const bytes = new Uint8Array([0, 6, 0, 0, 0, 9, 0x7b]);
  const cut = { kind: 'truncated', offset: 1, length: 9, available: 1 };
  expect(locateVmdescInBytes(bytes, 0)).toEqual(cut);
  expect(await locateVmdescFromEnd(bytesSource(bytes))).toEqual(cut);
});

test('no description: none found', async () => {
  const bytes = new Uint8Array([0, 1, 2, 3, 4, 5, 0x7b]);
  expect(locateVmdescInBytes(bytes, 0)).toBeUndefined();
  expect(await locateVmdescFromEnd(bytesSource(bytes))).toBeUndefined();
});
