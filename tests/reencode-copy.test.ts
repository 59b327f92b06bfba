import * as fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAssignment } from '../src/stream/edit';
import { CopyPatchSink } from '../src/stream/sink';
import { fileSource } from '../src/stream/source';
import { transcodeToFile, type TranscodeOptions } from '../src/stream/transcode';
import { readStream, streamPath } from './fixtures/qemu-streams';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-reencode-copy-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function transcode(input: string, out: string, opts: TranscodeOptions): Promise<Buffer> {
  const src = await fileSource(input);
  try {
    await transcodeToFile(src, out, opts);
  } finally {
    await src.close();
  }
  return fs.readFileSync(out);
}

describe('reencode from a copy of the input (CopyPatchSink)', () => {
  test('an unmodified stream comes out byte-identical, with the mode a new file gets', async () => {
    const input = streamPath('q35-nodefaults-paused');
    const copied = path.join(dir, 'copied.mig');
    const written = path.join(dir, 'written.mig');
    const a = await transcode(input, copied, { inputFile: input });
    const b = await transcode(input, written, {});
    expect(Buffer.compare(a, Buffer.from(readStream('q35-nodefaults-paused')))).toBe(0);
    expect(Buffer.compare(a, b)).toBe(0);
    expect(fs.statSync(copied).mode).toBe(fs.statSync(written).mode);
  });

  test('with fsync, and into a name that exists: the same bytes, no temporary left', async () => {
    const input = streamPath('pc-nodefaults-paused');
    const sub = fs.mkdtempSync(path.join(dir, 'fsync-'));
    const out = path.join(sub, 'x.mig');
    fs.writeFileSync(out, 'an older file in the way');
    // The copy is a new file made by copyFile (COPYFILE_EXCL), not the empty one first opened.
    const a = await transcode(input, out, { inputFile: input, fsync: true });
    expect(Buffer.compare(a, Buffer.from(readStream('pc-nodefaults-paused')))).toBe(0);
    expect(fs.readdirSync(sub)).toEqual(['x.mig']);
    expect(fs.statSync(out).mode & 0o777).toBe(0o644 & ~process.umask());
  });

  test('an edit gives the same bytes as one written whole', async () => {
    const input = streamPath('pc-nodefaults-paused');
    const sets = () =>
      ['cpu#0/env.eip=0x1234', 'cpu#0/env.regs[1]=0xdeadbeef'].map(parseAssignment);
    const a = await transcode(input, path.join(dir, 'e1.mig'), {
      inputFile: input,
      assignments: sets(),
    });
    const b = await transcode(input, path.join(dir, 'e2.mig'), { assignments: sets() });
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, Buffer.from(readStream('pc-nodefaults-paused')))).not.toBe(0);
  });

  test('a truncated input is an error and leaves nothing behind', async () => {
    const whole = readStream('pc-nodefaults-paused');
    const cut = path.join(dir, 'cut.mig');
    fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const sub = fs.mkdtempSync(path.join(dir, 'out-'));
    const out = path.join(sub, 'x.mig');
    await expect(transcode(cut, out, { inputFile: cut })).rejects.toThrow(/trunc|end/i);
    expect(fs.readdirSync(sub)).toEqual([]);
  });

  test('any mix of passed-through, new and dropped ranges, with or without waiting for the copy', async () => {
    type Op = { kind: 'pass' | 'drop'; len: number } | { kind: 'new'; bytes: Uint8Array };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('pass' as const), len: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ kind: fc.constant('drop' as const), len: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('new' as const), bytes: fc.uint8Array({ maxLength: 200 }) }),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 4000 }),
        fc.array(fc.tuple(op, fc.boolean()), { maxLength: 40 }),
        fc.integer({ min: 0, max: 500 }),
        async (input, ops, holdBytes) => {
          const src = path.join(dir, `in-${n}`);
          const tmp = path.join(dir, `out-${n++}`);
          fs.writeFileSync(src, input);
          const fd = fs.openSync(tmp, 'wx', 0o644);
          const expected: number[] = [];
          try {
            const sink = new CopyPatchSink(fd, src, tmp, input.length, holdBytes, 64);
            let at = 0;
            for (const [o, flush] of ops) {
              if (o.kind === 'new') {
                sink.write(o.bytes);
                expected.push(...o.bytes);
              } else {
                const len = Math.min(o.len, input.length - at);
                if (o.kind === 'pass') {
                  const bytes = input.subarray(at, at + len);
                  if (!sink.passThrough(at, len)) sink.write(bytes);
                  expected.push(...bytes);
                }
                at += len;
              }
              if (flush) await sink.flush();
            }
            await sink.finish();
            expect(sink.written).toBe(expected.length);
          } finally {
            fs.closeSync(fd);
          }
          expect([...fs.readFileSync(tmp)]).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});
