/**
 * `diff --ram pages` of files hashes the pages the walk leaves in the file through its mapping,
 * in the native module (file-pages.c hashPages): the same hashes as pageHash, bit for bit, so a
 * stream read in place and one read in (a pipe, a small file) compare page by page; and a diff of
 * two files finds exactly the pages that differ, as the same bytes read in do.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { diffStreams } from '../src/diff/diff';
import { PageHashes, pageHash } from '../src/diff/page-hashes';
import { TruncatedError } from '../src/errors';
import { FilePages } from '../src/stream/file-pages';
import { bytesSource, fileSource } from '../src/stream/source';
import { writeSyntheticStream } from '../src/stream/synth';
import { describeWithFilePages } from './support/native-file-pages';

const maybe = describeWithFilePages;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-diff-file-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function withPages<T>(bytes: Uint8Array, f: (fp: FilePages) => T): T {
  const file = path.join(dir, 'records.bin');
  fs.writeFileSync(file, bytes);
  const fd = fs.openSync(file, 'r');
  try {
    return f(FilePages.of(fd, bytes.length)!);
  } finally {
    fs.closeSync(fd);
  }
}

maybe('page hashes through the mapping', () => {
  test('are pageHash of every page, at any page size, offset and stride', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(512, 1024, 4096),
        fc.integer({ min: 1, max: 12 }),
        fc.nat(37),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (size, count, lead, extra, seed) => {
          const stride = size + 8 + extra;
          const bytes = new Uint8Array(lead + count * stride);
          let x = seed | 1;
          for (let i = 0; i < bytes.length; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            // Mostly zeros, as RAM is: runs of equal words hash like any other.
            bytes[i] = (x & 7) === 0 ? x >>> 24 : 0;
          }
          const out = new Uint32Array(2 * count);
          const hashed = withPages(bytes, (fp) => fp.hashPages(lead, stride, size, count, out));
          expect(hashed).toBe(count);
          for (let i = 0; i < count; i++) {
            const at = lead + i * stride;
            expect([out[2 * i], out[2 * i + 1]]).toEqual(pageHash(bytes.subarray(at, at + size)));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test('stop at the end of the file', () => {
    const bytes = new Uint8Array(3 * 520 + 100).fill(7);
    const out = new Uint32Array(10);
    withPages(bytes, (fp) => {
      expect(fp.hashPages(8, 520, 512, 5, out)).toBe(3);
      expect(fp.hashPages(bytes.length, 520, 512, 1, out)).toBe(0);
    });
  });
});

maybe('a file stretch cut short', () => {
  test('keeps the pages hashed before the cut and refuses the rest, with the offset and block', () => {
    const size = 512;
    const stride = 8 + size;
    const file = path.join(dir, 'cut.bin');
    const bytes = new Uint8Array(4 * stride).map((_, i) => (i * 31) & 0xff);
    fs.writeFileSync(file, bytes);
    const fd = fs.openSync(file, 'r+');
    try {
      const fp = FilePages.of(fd, bytes.length)!;
      // The file loses its last page after the walk saw it whole.
      fs.ftruncateSync(fd, 3 * stride + 100);
      const hashes = new PageHashes(size);
      let error: unknown;
      try {
        hashes.filePages('pc.ram', 0, fp, 0, 4);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TruncatedError);
      expect(error).toMatchObject({ offset: 3 * stride, path: 'ram > pc.ram' });
      const third = pageHash(bytes.subarray(2 * stride + 8, 3 * stride));
      expect(hashes.page('pc.ram', 2)).toEqual({ known: true, h1: third[0], h2: third[1] });
    } finally {
      fs.closeSync(fd);
    }
  });
});

maybe('diff of two files', () => {
  test('finds exactly the pages that differ, as the same streams read in do', async () => {
    const a = path.join(dir, 'a.mig');
    const b = path.join(dir, 'b.mig');
    // 8 MiB of RAM, every page data: past the size from which pages stay in the file.
    await writeSyntheticStream(a, { ramBytes: 8 << 20, dataEvery: 1 });
    const bytes = fs.readFileSync(a);
    // The first page record names its block (the second "pc.ram": the first is in the block
    // list); its page follows the name, and each later record is an 8-byte header and a page.
    const name = Buffer.from('pc.ram');
    const firstPage = bytes.indexOf(name, bytes.indexOf(name) + 1) + name.length;
    const changed = Buffer.from(bytes);
    const pages = [10, 700, 1500];
    for (const p of pages) changed[firstPage + p * 4104 + 100] ^= 0x5a;
    fs.writeFileSync(b, changed);

    const fromFiles = await diffStreams(await fileSource(a), await fileSource(b), { ram: 'pages' });
    const fromBytes = await diffStreams(bytesSource(bytes), bytesSource(changed), {
      ram: 'pages',
    });
    expect(fromFiles.ram).toEqual(fromBytes.ram);
    expect(fromFiles.ram?.differingPages).toBe(pages.length);
    expect(fromFiles.ram?.blocks[0]?.ranges?.map((r) => Number(r.start) / 4096)).toEqual(pages);
    const same = await diffStreams(await fileSource(a), bytesSource(bytes), { ram: 'pages' });
    expect(same.ram?.differingPages).toBe(0);
  });
});
