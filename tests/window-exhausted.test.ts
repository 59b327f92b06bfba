/**
 * StreamWindow.parse stops at the first TruncatedError once every byte of a source of known
 * size is in the window (parsing again would read the same bytes): the same error as a source
 * whose size is unknown (parsed again after the source says it has ended), and the section is
 * decoded once instead of twice.
 */
import { TruncatedError } from '../src/errors';
import { bytesSource, type ChunkSource } from '../src/stream/source';
import { StreamWindow } from '../src/stream/window';

const sized = (b: Uint8Array, chunk: number): ChunkSource => bytesSource(b, chunk);
const unsized = (b: Uint8Array, chunk: number): ChunkSource => {
  const s = bytesSource(b, chunk);
  return { read: s.read, close: s.close };
};

async function parseAll(source: ChunkSource, need: number) {
  const w = new StreamWindow(source);
  let calls = 0;
  try {
    await w.parse(
      (r) => {
        calls++;
        r.skip(need);
        return r.offset;
      },
      { initial: 16, limit: 1 << 20, what: 'test', path: 'a > b' },
    );
    return { calls, ok: true };
  } catch (e) {
    const t = e as TruncatedError;
    return { calls, error: t.constructor.name, message: t.message, offset: t.offset, path: t.path };
  }
}

test.each([
  [100, 150, 4096],
  [100, 150, 7],
  [5000, 7000, 1000],
  [0, 1, 64],
  [70000, 70001, 65536],
])(
  '%d bytes, %d needed, chunks of %d: one parse, the error of an unsized source',
  async (len, need, chunk) => {
    const b = new Uint8Array(len).fill(1);
    const a = await parseAll(sized(b, chunk), need);
    const u = await parseAll(unsized(b, chunk), need);
    const { calls: ac, ...aRest } = a;
    const { calls: uc, ...uRest } = u;
    expect(aRest).toEqual(uRest);
    expect(aRest).toMatchObject({ error: 'TruncatedError', path: 'a > b' });
    expect(ac).toBeLessThanOrEqual(uc);
    // Everything in after the first fill: one parse (the unsized source needs a second).
    if (chunk >= len && len > 0) expect([ac, uc]).toEqual([1, 2]);
  },
);

test('a parse that fits still succeeds on a sized source', async () => {
  const b = new Uint8Array(300);
  expect(await parseAll(sized(b, 64), 300)).toEqual({ calls: expect.any(Number), ok: true });
});
