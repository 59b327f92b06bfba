/**
 * `--extract` from page stretches (StreamVisitor.pageBytes, the default) against one record per
 * page: the same files byte for byte, and a damaged stream fails with the same error (class,
 * offset, path, message) either way.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { extractStream } from '../src/analyze/extract';
import { bytesSource } from '../src/stream/source';
import { arbPage, committedStreams, mixedStream, readStream } from './fixtures/ram-streams';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-extract-runs-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every file of a directory with the hash of its bytes, sorted. */
function listing(d: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(d, rel), { withFileTypes: true })
    .flatMap((e) => {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) return listing(d, r);
      const h = createHash('sha256')
        .update(fs.readFileSync(path.join(d, r)))
        .digest('hex');
      return [`${r} ${fs.statSync(path.join(d, r)).size} ${h}`];
    })
    .sort();
}

let n = 0;
/** The extract's files (with the order it reports them in), or the error that stopped it. */
async function extracted(
  bytes: Uint8Array,
  ramPages: 'records' | 'runs',
  chunk?: number,
): Promise<string[]> {
  const out = path.join(dir, `x${n++}`);
  try {
    // Every write in the thread pool after the first MiB: the queue and its order are exercised.
    const r = await extractStream(bytesSource(bytes, chunk), out, {
      ramPages,
      threadAfterBytes: 1 << 20,
    });
    return [...r.files, ...listing(out)];
  } catch (e) {
    const err = e as Error & { offset?: number; path?: string };
    expect(fs.existsSync(out)).toBe(false);
    return [`${err.constructor.name} @${err.offset} [${err.path}] ${err.message}`];
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

describe('extract from page stretches', () => {
  test('every committed stream: the same files as one record per page', async () => {
    const files = committedStreams();
    expect(files.length).toBeGreaterThan(100);
    let withPages = 0;
    for (const f of files) {
      const bytes = readStream(f);
      for (const chunk of f.includes('qemu-7.2') && !f.endsWith('.gz')
        ? [1 << 20, 4093]
        : [1 << 20]) {
        const runs = await extracted(bytes, 'runs', chunk);
        expect({ f, chunk, runs }).toEqual({
          f,
          chunk,
          runs: await extracted(bytes, 'records', chunk),
        });
        if (runs.some((l) => / [0-9a-f]{64}$/.test(l) && !/\.json /.test(l))) withPages++;
      }
    }
    // Not a comparison of empty directories: most streams have RAM block files.
    expect(withPages).toBeGreaterThan(50);
  }, 300_000);

  test('a zero page between two pages at consecutive addresses ends the stretch (seed 593276222)', async () => {
    const data = (k: number) => Uint8Array.from({ length: 4096 }, (_, i) => (i * 13 + k) & 0xff);
    const bytes = mixedStream([
      { block: 'pc.ram', addr: 0n, kind: 'page', data: data(0) },
      { block: 'pc.ram', addr: 0x3b000n, kind: 'page', data: data(1) },
      { block: 'pc.ram', addr: 0n, kind: 'zero', fill: 0 },
      { block: 'pc.ram', addr: 0x3c000n, kind: 'page', data: data(2) },
    ] as Parameters<typeof mixedStream>[0]);
    expect(await extracted(bytes, 'runs', 4096)).toEqual(await extracted(bytes, 'records', 4096));
  });

  test('random pages (repeated, zero fills, compressed, XBZRLE): same files; cuts and corrupted bytes fail alike', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbPage, { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(4096, 4099, 1 << 20),
        async (pages, hits, chunk) => {
          const bytes = mixedStream(pages);
          expect(await extracted(bytes, 'runs', chunk)).toEqual(
            await extracted(bytes, 'records', chunk),
          );
          const from = 0x40;
          for (const [at, v] of hits) {
            const i = from + (at % (bytes.length - from));
            const cut = bytes.subarray(0, i);
            expect(await extracted(cut, 'runs', chunk)).toEqual(
              await extracted(cut, 'records', chunk),
            );
            const bad = bytes.slice();
            bad[i] = v;
            expect(await extracted(bad, 'runs', chunk)).toEqual(
              await extracted(bad, 'records', chunk),
            );
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 300_000);
});
