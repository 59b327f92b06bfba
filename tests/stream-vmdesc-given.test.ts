/**
 * WalkOptions.vmdescAt: a description the caller parsed from the stream's end, as the walk does,
 * is taken as the one found there (not parsed again at the record after EOF).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { readStreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';
import { locateVmdescFromEnd, parseVmdesc } from '../src/stream/vmdesc';

const FILE = path.join(__dirname, '..', 'streams', 'qemu-7.2', 'pc-7.2-defaults.mig.gz');

test('a description given with its offset is the one of the stream end, parsed once', async () => {
  const bytes = new Uint8Array(zlib.gunzipSync(fs.readFileSync(FILE)));
  const found = await locateVmdescFromEnd(bytesSource(bytes));
  expect(found?.kind).toBe('found');
  if (found?.kind !== 'found') return;
  const desc = parseVmdesc(found.json, found.offset + 5);
  const own = await readStreamContents(bytesSource(bytes));
  const given = await readStreamContents(bytesSource(bytes), {
    vmdesc: desc,
    vmdescAt: found.offset,
  });
  expect(given.walk.vmdescFrom).toBe('end-of-file');
  expect(given.walk.vmdescFrom).toBe(own.walk.vmdescFrom);
  // The very object given: the record after EOF did not parse its bytes again.
  expect(given.vmdesc?.desc).toBe(desc);
  expect(given.vmdesc?.offset).toBe(own.vmdesc?.offset);
  expect(given.entries.length).toBe(own.entries.length);
  // Without the offset it is a description from elsewhere, and the record's is parsed on its own.
  const elsewhere = await readStreamContents(bytesSource(bytes), { vmdesc: desc });
  expect(elsewhere.walk.vmdescFrom).toBe('given');
  expect(elsewhere.vmdesc?.desc).not.toBe(desc);
});
