/**
 * `--extract` into an earlier extract's directory takes its block files over and writes over
 * them (BlockFiles.takeOver): the result is, byte for byte, what an extract into a new directory
 * gives, whatever the earlier one held; a file with another name, a symbolic link, a path through
 * one, or the input itself is never written over.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { extractStream } from '../src/analyze/extract';
import { fileSource } from '../src/stream/source';
import { arbPage, committedStreams, mixedStream, readStream } from './fixtures/ram-streams';
import { describeWithFilePages } from './support/native-file-pages';

// Taking files over needs the native module (holes).
const maybe = describeWithFilePages;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-extract-reuse-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
function fileOf(bytes: Uint8Array): string {
  const f = path.join(dir, `in${n++}.mig`);
  fs.writeFileSync(f, bytes);
  return f;
}

function hash(f: string): string {
  return createHash('sha256').update(fs.readFileSync(f)).digest('hex');
}

/** Every file under `d` (relative name, size, hash), sorted. */
function listing(d: string): string[] {
  return fs
    .readdirSync(d, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const f = path.join(e.parentPath, e.name);
      return `${path.relative(d, f)} ${fs.statSync(f).size} ${hash(f)}`;
    })
    .sort();
}

/** Extracts `file` into `out`: its file list and listing, or the error. */
async function extract(file: string, out: string): Promise<string[]> {
  const src = await fileSource(file);
  try {
    const r = await extractStream(src, out, { threadAfterBytes: 1 << 16 });
    return [...r.files, ...listing(out)];
  } catch (e) {
    const err = e as Error & { offset?: number; path?: string };
    return [`${err.constructor.name} @${err.offset} [${err.path}] ${err.message}`];
  } finally {
    await src.close();
  }
}

/** What an extract of `file` into a directory that does not exist gives. */
async function fresh(file: string): Promise<string[]> {
  const out = path.join(dir, `fresh${n++}`);
  try {
    return await extract(file, out);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

const inode = (f: string) => fs.statSync(f).ino;

maybe('extract over an earlier extract', () => {
  test('random streams one after the other into one directory: each as into a new one', async () => {
    let takenOver = 0;
    let chances = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(arbPage, { minLength: 1, maxLength: 50 }), {
          minLength: 2,
          maxLength: 4,
        }),
        async (runs) => {
          const out = path.join(dir, `same${n++}`);
          try {
            for (const pages of runs) {
              const file = fileOf(mixedStream(pages));
              const ram = path.join(out, 'pc.ram');
              const before = fs.existsSync(ram) ? inode(ram) : undefined;
              expect(await extract(file, out)).toEqual(await fresh(file));
              // (a stream that fails to extract leaves no directory)
              if (before !== undefined && fs.existsSync(ram)) {
                chances++;
                if (inode(ram) === before) takenOver++;
              }
              fs.rmSync(file);
            }
          } finally {
            fs.rmSync(out, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 25 },
    );
    // The files were written over, not made anew (else this compares new directories only).
    expect(chances).toBeGreaterThan(5);
    expect(takenOver).toBe(chances);
  }, 300_000);

  test('real streams of other block lists and sizes, one after the other', async () => {
    const files = committedStreams().filter((f) => /qemu-(5\.2|7\.2|10\.0)\//.test(f));
    expect(files.length).toBeGreaterThan(10);
    const out = path.join(dir, `real${n++}`);
    const picks = [0, 3, 1, 7, 2, 5].map((i) => files[(i * 5) % files.length]);
    for (const f of picks) {
      const file = fileOf(readStream(f));
      expect({ f, got: await extract(file, out) }).toEqual({ f, got: await fresh(file) });
      fs.rmSync(file);
    }
    fs.rmSync(out, { recursive: true, force: true });
  }, 300_000);

  test('a block file with another name, a symbolic link or a path through one is left alone', async () => {
    const real = committedStreams().find((f) => /qemu-7\.2\/pc-7\.2-defaults/.test(f))!;
    const file = fileOf(readStream(real));
    const out = path.join(dir, `links${n++}`);
    await extract(file, out);
    const want = await fresh(file);

    // pc.ram with a second name; the VGA's vga.vram a symbolic link to a file outside; rom@etc a link to a
    // directory outside that has the same names inside.
    const keep = path.join(dir, `keep${n++}`);
    fs.linkSync(path.join(out, 'pc.ram'), keep);
    const keepHash = hash(keep);
    const outside = path.join(dir, `outside${n++}`);
    fs.writeFileSync(outside, 'not a block');
    const vram = path.join(out, '0000:00:02.0', 'vga.vram');
    fs.rmSync(vram);
    fs.symlinkSync(outside, vram);
    const outsideDir = path.join(dir, `outside-dir${n++}`);
    fs.renameSync(path.join(out, 'rom@etc'), outsideDir);
    fs.symlinkSync(outsideDir, path.join(out, 'rom@etc'));
    const outsideListing = listing(outsideDir);

    expect(await extract(file, out)).toEqual(want);
    expect(hash(keep)).toBe(keepHash);
    expect(fs.readFileSync(outside, 'utf8')).toBe('not a block');
    expect(listing(outsideDir)).toEqual(outsideListing);
    expect(inode(path.join(out, 'pc.ram'))).not.toBe(inode(keep));
    fs.rmSync(out, { recursive: true, force: true });
  }, 120_000);

  test('an XBZRLE page on a page this run did not write applies to zeros, not to the earlier file', async () => {
    const page = (fill: number) => new Uint8Array(4096).fill(fill);
    const first = fileOf(
      mixedStream(
        [0, 1, 2].map((i) => ({
          block: 'pc.ram',
          addr: BigInt(i * 4096),
          kind: 'page' as const,
          data: page(0xee),
        })),
      ),
    );
    // zero run 0, literal run 1 (0x11): a page of 0x11 then zeros, over a page never sent.
    const second = fileOf(
      mixedStream([
        { block: 'pc.ram', addr: 4096n, kind: 'xbzrle', delta: Uint8Array.of(0, 1, 0x11) },
        { block: 'pc.ram', addr: 8192n, kind: 'page', data: page(3) },
      ]),
    );
    const out = path.join(dir, `xbzrle${n++}`);
    await extract(first, out);
    const ino = inode(path.join(out, 'pc.ram'));
    const got = await extract(second, out);
    expect(got).toEqual(await fresh(second));
    expect(inode(path.join(out, 'pc.ram'))).toBe(ino);
    const ram = fs.readFileSync(path.join(out, 'pc.ram'));
    expect([ram[0], ram[4096], ram[4097], ram[8192]]).toEqual([0, 0x11, 0, 3]);
    fs.rmSync(out, { recursive: true, force: true });
  });

  test('the input saved in the directory under a block name is read, never written over', async () => {
    const out = path.join(dir, `input${n++}`);
    // 1,500 pages (6 MiB of stream, read in place and in several chunks) into a 256 KiB
    // block: taken over, the input would be cut to the block's length while still being read.
    const count = 1500;
    const pages = Array.from({ length: count }, (_, i) => ({
      block: 'pc.ram',
      addr: BigInt(((count - 1 - i) % 64) * 4096),
      kind: 'page' as const,
      data: new Uint8Array(4096).fill((i % 250) + 1),
    }));
    const file = fileOf(mixedStream(pages));
    const want = await fresh(file);
    expect(want[0]).not.toMatch(/Error @/);
    await extract(file, out);
    // The stream itself becomes the earlier extract's pc.ram.
    fs.copyFileSync(file, path.join(out, 'pc.ram'));
    const input = path.join(out, 'pc.ram');
    const src = await fileSource(input);
    try {
      const r = await extractStream(src, out);
      expect([...r.files, ...listing(out)]).toEqual(want);
    } finally {
      await src.close();
    }
    fs.rmSync(out, { recursive: true, force: true });
  });

  test('a damaged stream into an earlier extract leaves no directory, as into a new one', async () => {
    const good = fileOf(mixedStream([{ block: 'pc.ram', addr: 0n, kind: 'zero', fill: 7 }]));
    const out = path.join(dir, `damaged${n++}`);
    await extract(good, out);
    const bytes = fs.readFileSync(good);
    const cut = fileOf(bytes.subarray(0, bytes.length - 300));
    const got = await extract(cut, out);
    expect(got).toEqual(await fresh(cut));
    expect(got[0]).toMatch(/Error @/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(`.${path.basename(out)}`))).toEqual([]);
  });
});
