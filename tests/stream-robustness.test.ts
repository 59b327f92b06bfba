import fc from 'fast-check';
import { VMStateError, TruncatedError, UnsupportedError } from '../src/errors';
import type { Vmdesc } from '../src/stream/vmdesc';
import { REAL_STREAMS, readStream } from './fixtures/qemu-streams';
import { contentsOf, reencodeBytes, transformBytes } from './fixtures/stream-helpers';

const bytes = readStream('pc-nodefaults-paused');
const EOF_OFFSET = 100356;

async function outcome(p: Promise<unknown>): Promise<'ok' | VMStateError> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof VMStateError) return e;
    throw e; // anything else fails the test: a crash, not a typed error
  }
}

describe('truncated real stream', () => {
  let vmdesc: Vmdesc;
  let cuts: number[];
  beforeAll(async () => {
    const c = await contentsOf(bytes);
    vmdesc = c.vmdesc!.desc!;
    // Every record boundary and its neighbours, plus an even spread through the file.
    const marks = [
      0,
      4,
      8,
      9,
      26,
      27,
      31,
      196,
      87481,
      EOF_OFFSET,
      EOF_OFFSET + 1,
      EOF_OFFSET + 2,
      EOF_OFFSET + 5,
      EOF_OFFSET + 6,
    ];
    for (const e of c.entries) {
      if (e.type === 'section')
        marks.push(e.section.offset, e.section.bodyOffset, e.section.footer!.offset);
      if (e.type === 'ram-section') marks.push(e.offset, e.footer!.offset);
    }
    const set = new Set<number>();
    for (const m of marks)
      for (const d of [-1, 0, 1, 3]) if (m + d >= 0 && m + d < bytes.length) set.add(m + d);
    for (let n = 0; n < bytes.length; n += 1499) set.add(n);
    cuts = [...set].sort((a, b) => a - b);
  });

  test('gives a typed error at every cut before EOF, with the vmdesc given (field-level decoding)', async () => {
    for (const n of cuts.filter((x) => x <= EOF_OFFSET)) {
      const r = await outcome(contentsOf(bytes.subarray(0, n), { vmdesc }, 8192));
      expect(r).toBeInstanceOf(VMStateError);
      const e = r as VMStateError;
      expect(e.offset).toBeLessThanOrEqual(n);
      expect(e.offset).toBeGreaterThanOrEqual(0);
    }
  });

  test('gives a typed error at every cut, using only what the cut file holds', async () => {
    for (const n of cuts) {
      const r = await outcome(contentsOf(bytes.subarray(0, n)));
      if (n === EOF_OFFSET + 1)
        expect(r).toBe('ok'); // a stream that simply has no vmdesc
      else expect(r).toBeInstanceOf(VMStateError);
    }
  });

  test('every cut names the place it was reading: header, configuration, record header, field or footer', async () => {
    // The reader knows no path; the walker and the loader place its errors. A cut anywhere
    // before EOF must say where it was, with or without the description.
    const place =
      /^(header|configuration|expecting a section type or EOF|section header at 0x[0-9a-f]+|\S+#\d+ \(section \d+\)( > .+| footer| \(no decoder: looking for its footer\))?)$/;
    for (const n of cuts.filter((x) => x < EOF_OFFSET))
      for (const opts of [{ vmdesc }, {}]) {
        const r = await outcome(contentsOf(bytes.subarray(0, n), opts));
        expect(r).toBeInstanceOf(VMStateError);
        expect({ cut: n, path: (r as VMStateError).path }).toEqual({
          cut: n,
          path: expect.stringMatching(place),
        });
      }
  });

  test('a cut inside a device section names the section and field', async () => {
    const c = await contentsOf(bytes);
    const cpu = c.entries.find((e) => e.type === 'section' && e.section.idstr === 'cpu');
    if (cpu?.type !== 'section') throw new Error('no cpu');
    const r = await outcome(
      contentsOf(bytes.subarray(0, cpu.section.bodyOffset + 133), { vmdesc }),
    );
    expect(r).toBeInstanceOf(TruncatedError);
    expect((r as VMStateError).path).toMatch(/^cpu#0 \(section 5\) > env\./);
  });
});

describe('corrupted real stream', () => {
  test('random byte changes give a result or a typed error, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        async (changes) => {
          const copy = bytes.slice();
          for (const [at, v] of changes) copy[at] = v;
          await outcome(contentsOf(copy));
        },
      ),
      { numRuns: 120 },
    );
  });

  test('changes in the section area, where the decoder has most to check', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 87481, max: bytes.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        async (at, v) => {
          const copy = bytes.slice();
          copy[at] = v;
          const r = await outcome(reencodeBytes(copy));
          if (r === 'ok') {
            // whatever decodes must re-encode to the same bytes
            expect(Buffer.compare(Buffer.from(await reencodeBytes(copy)), Buffer.from(copy))).toBe(
              0,
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test('a huge vmdesc length is refused without allocating it', async () => {
    const copy = bytes.slice(0, EOF_OFFSET + 1 + 5 + 10);
    copy.set([0x06, 0xff, 0xff, 0xff, 0xf0], EOF_OFFSET + 1);
    const r = await outcome(contentsOf(copy));
    expect(r).toBeInstanceOf(VMStateError);
  });
});

describe.each(REAL_STREAMS)('%s without its vmdesc', (name) => {
  const full = readStream(name);
  let eof: number;
  let vmdesc: Vmdesc;
  beforeAll(async () => {
    const c = await contentsOf(full);
    eof = c.eof!.offset;
    vmdesc = c.vmdesc!.desc!;
  });

  test('walks with sections kept as bytes delimited by their footers, and re-encodes exactly', async () => {
    const stripped = full.subarray(0, eof + 1);
    const c = await contentsOf(stripped);
    expect(c.vmdesc).toBeUndefined();
    expect(c.walk.vmdescFrom).toBe('none');
    const ds = c.entries.flatMap((e) => (e.type === 'section' ? [e.section] : []));
    expect(ds.length).toBeGreaterThan(25);
    expect(ds.every((s) => s.decodedBy === 'opaque' && s.footer)).toBe(true);
    expect(Buffer.compare(Buffer.from(await reencodeBytes(stripped)), Buffer.from(stripped))).toBe(
      0,
    );
  });

  test('decodes field by field when the description is supplied separately', async () => {
    const c = await contentsOf(full.subarray(0, eof + 1), { vmdesc });
    const ds = c.entries.flatMap((e) => (e.type === 'section' ? [e.section] : []));
    expect(ds.every((s) => s.decodedBy === 'vmdesc')).toBe(true);
  });

  test('refuses with a typed error when opaque sections are not allowed', async () => {
    const r = await outcome(contentsOf(full.subarray(0, eof + 1), { opaqueFallback: false }));
    expect(r).toBeInstanceOf(UnsupportedError);
  });
});

describe('old-machine layout (no configuration section, no footers)', () => {
  const full = readStream('q35-nodefaults-paused');

  test('decodes by the vmdesc and re-encodes exactly', async () => {
    const old = await transformBytes(full, (r) =>
      r.type === 'configuration' || r.type === 'footer' ? undefined : r,
    );
    expect(old.length).toBe(full.length - 15 - 32 * 5);
    const c = await contentsOf(old);
    expect(c.configuration).toBeUndefined();
    expect(c.footers).toBe(0);
    const ds = c.entries.flatMap((e) => (e.type === 'section' ? [e.section] : []));
    expect(ds).toHaveLength(29);
    expect(ds.every((s) => s.decodedBy === 'vmdesc' && !s.footer)).toBe(true);
    expect(Buffer.compare(Buffer.from(await reencodeBytes(old)), Buffer.from(old))).toBe(0);
  });

  test('without a vmdesc nothing can find the section ends: a typed error', async () => {
    const old = await transformBytes(full, (r) =>
      r.type === 'configuration' || r.type === 'footer' || r.type === 'vmdesc' ? undefined : r,
    );
    const r = await outcome(contentsOf(old));
    expect(r).toBeInstanceOf(UnsupportedError);
  });

  test('a missing footer after footers were seen is an error', async () => {
    let dropped = false;
    const broken = await transformBytes(full, (r) => {
      if (r.type === 'footer' && r.sectionId === 5 && !dropped) {
        dropped = true;
        return undefined;
      }
      return r;
    });
    const r = await outcome(contentsOf(broken));
    expect(r).toBeInstanceOf(VMStateError);
    expect((r as VMStateError).what).toMatch(/missing section footer/);
  });
});

describe('nested PACKAGED commands', () => {
  test('1,000 packages inside packages are refused at a bounded depth, quickly', async () => {
    let inner: Uint8Array = Uint8Array.of(0x00);
    for (let i = 0; i < 1000; i++) {
      const next = new Uint8Array(9 + inner.length + 1);
      next.set([0x08, 0x00, 0x07, 0x00, 0x04]);
      new DataView(next.buffer).setUint32(5, inner.length);
      next.set(inner, 9);
      next[next.length - 1] = 0x00;
      inner = next;
    }
    const stream = new Uint8Array(8 + inner.length);
    stream.set([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3]);
    stream.set(inner, 8);
    const t = Date.now();
    const r = await outcome(contentsOf(stream));
    expect(r).toBeInstanceOf(VMStateError);
    expect((r as VMStateError).what).toMatch(/PACKAGED nesting depth/);
    expect(Date.now() - t).toBeLessThan(5000);
  });
});
