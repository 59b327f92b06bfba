/**
 * `reencode` of a file steps over RAM pages (the output starts as a copy of the input, so a run of
 * pages is already in place) against one record per page passed through: the same output byte
 * for byte, and a damaged stream fails with the same error (class, offset, path, message) and
 * leaves no output either way.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { fileSource } from '../src/stream/source';
import { transcodeToFile } from '../src/stream/transcode';
import { arbPage, committedStreams, mixedStream, readStream } from './fixtures/ram-streams';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-reencode-runs-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** The reencoded bytes (hex of a hash would hide where they differ: kept whole), or the error. */
async function reencoded(input: string, ramPages: 'records' | 'runs'): Promise<Buffer | string> {
  const out = path.join(dir, `out${n++}.mig`);
  const src = await fileSource(input);
  try {
    await transcodeToFile(src, out, { inputFile: input, ramPages });
    return fs.readFileSync(out);
  } catch (e) {
    const err = e as Error & { offset?: number; path?: string };
    expect(fs.existsSync(out)).toBe(false);
    return `${err.constructor.name} @${err.offset} [${err.path}] ${err.message}`;
  } finally {
    await src.close();
    fs.rmSync(out, { force: true });
  }
}

function inputFile(bytes: Uint8Array): string {
  const f = path.join(dir, `in${n++}.mig`);
  fs.writeFileSync(f, bytes);
  return f;
}

describe('reencode with RAM pages stepped over', () => {
  test('every committed stream: byte-identical to the input, as with one record per page', async () => {
    const files = committedStreams();
    expect(files.length).toBeGreaterThan(100);
    for (const f of files) {
      const bytes = readStream(f);
      const input = inputFile(bytes);
      const runs = await reencoded(input, 'runs');
      const records = await reencoded(input, 'records');
      expect({ f, same: Buffer.isBuffer(runs) && runs.equals(bytes) }).toEqual({ f, same: true });
      // Buffer.equals, not toEqual: a deep comparison of MiBs byte by byte takes seconds.
      const same = Buffer.isBuffer(records)
        ? Buffer.isBuffer(runs) && records.equals(runs)
        : records;
      expect({ f, same }).toEqual({ f, same: true });
      fs.rmSync(input);
    }
  }, 300_000);

  test('random pages: same output; cuts and corrupted bytes fail alike', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbPage, { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }),
        async (pages, hits) => {
          const bytes = mixedStream(pages);
          const whole = inputFile(bytes);
          const out = await reencoded(whole, 'runs');
          expect(Buffer.isBuffer(out) && out.equals(bytes)).toBe(true);
          expect(await reencoded(whole, 'records')).toEqual(out);
          const from = 0x40;
          for (const [at, v] of hits) {
            const i = from + (at % (bytes.length - from));
            const cut = inputFile(bytes.subarray(0, i));
            expect(await reencoded(cut, 'runs')).toEqual(await reencoded(cut, 'records'));
            const bad = bytes.slice();
            bad[i] = v;
            const badFile = inputFile(bad);
            expect(await reencoded(badFile, 'runs')).toEqual(await reencoded(badFile, 'records'));
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 300_000);
});
