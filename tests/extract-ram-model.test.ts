/**
 * `--extract` against a model of the destination's RAM: every page record applied in stream order
 * to zeroed blocks, as QEMU's ram_load does (migration/ram.c). A zero page with fill 0 clears
 * the page (ram_handle_zero memsets a page that is not already zero), so a page sent with data
 * and later as a zero page ends up zero, which analyze-migration.py's -x does not do.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { extractStream } from '../src/analyze/extract';
import { WrittenPages } from '../src/analyze/written-pages';
import { bytesSource } from '../src/stream/source';
import type { SynthPage } from '../src/stream/synth';
import { arbPage, mixedStream, pattern } from './fixtures/ram-streams';

const PAGE = 4096;
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-extract-model-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A valid XBZRLE delta: keep 4 bytes, then the literal aa bb. */
const arbXbzrle: fc.Arbitrary<SynthPage> = fc.nat(63).map((i) => ({
  block: 'pc.ram',
  addr: BigInt(i * PAGE),
  kind: 'xbzrle',
  delta: Uint8Array.of(4, 2, 0xaa, 0xbb),
}));

/** The blocks of mixedStream after its pages (and its closing page) land in order. */
function model(pages: SynthPage[]): Record<string, Uint8Array> {
  const ram: Record<string, Uint8Array> = {
    'pc.ram': new Uint8Array(0x40000),
    'vga.vram': new Uint8Array(0x8000),
  };
  const all: SynthPage[] = [
    ...pages,
    { block: 'pc.ram', addr: 0x3f000n, kind: 'page', data: pattern(99) },
  ];
  for (const p of all) {
    if (p.kind === 'multifd-flush') continue;
    const at = Number(p.addr);
    const page = ram[p.block].subarray(at, at + PAGE);
    if (p.kind === 'zero') page.fill(p.fill ?? 0);
    else if (p.kind === 'xbzrle') page.set([0xaa, 0xbb], 4);
    else page.set(p.data);
  }
  return ram;
}

let n = 0;
async function extracted(pages: SynthPage[], ramPages: 'records' | 'runs') {
  const out = path.join(dir, `m${n++}`);
  try {
    await extractStream(bytesSource(mixedStream(pages), 4099), out, { ramPages });
    return {
      'pc.ram': new Uint8Array(fs.readFileSync(path.join(out, 'pc.ram'))),
      'vga.vram': new Uint8Array(fs.readFileSync(path.join(out, 'vga.vram'))),
    };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

test('a page sent with data and later as a zero page is zero in the extracted block', async () => {
  const pages: SynthPage[] = [
    { block: 'pc.ram', addr: 0x2000n, kind: 'page', data: pattern(1) },
    { block: 'pc.ram', addr: 0x3000n, kind: 'page', data: pattern(2) },
    { block: 'pc.ram', addr: 0x2000n, kind: 'zero', fill: 0 },
  ];
  for (const how of ['records', 'runs'] as const) {
    const got = await extracted(pages, how);
    expect(got['pc.ram'].subarray(0x2000, 0x3000).every((b) => b === 0)).toBe(true);
    expect(Buffer.from(got['pc.ram'].subarray(0x3000, 0x4000))).toEqual(Buffer.from(pattern(2)));
  }
});

test('random page records: the extracted blocks equal the pages applied in stream order', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof({ weight: 12, arbitrary: arbPage }, { weight: 1, arbitrary: arbXbzrle }), {
        minLength: 1,
        maxLength: 60,
      }),
      fc.constantFrom('records' as const, 'runs' as const),
      async (arbitrary, how) => {
        // arbPage's own XBZRLE delta is not valid on every page; the model's is.
        const pages = arbitrary.filter(
          (p) => p.kind !== 'xbzrle' || (p.delta.length === 4 && p.delta[0] === 4),
        );
        const want = model(pages);
        const got = await extracted(pages, how);
        for (const b of ['pc.ram', 'vga.vram'])
          expect(Buffer.compare(got[b as 'pc.ram'], want[b])).toBe(0);
      },
    ),
    { numRuns: 80 },
  );
}, 120_000);

test('the written-pages bitmap marks exactly the pages a range touches, across chunks', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(100_000), fc.integer({ min: 1, max: 70_000 })), { maxLength: 20 }),
      (ranges) => {
        const w = new WrittenPages(PAGE);
        const marked = new Set<number>();
        for (const [page, bytes] of ranges) {
          // Unaligned starts and lengths too: every page the bytes touch is marked.
          const pos = page * PAGE + (bytes % 3) * 17;
          w.mark(pos, bytes * 5);
          for (let p = Math.floor(pos / PAGE); p <= Math.floor((pos + bytes * 5 - 1) / PAGE); p++)
            marked.add(p);
        }
        // One expect for all pages (one each cost 2 minutes).
        const wrong: number[] = [];
        for (let p = 0; p < 110_000; p++)
          if (w.any(p * PAGE, PAGE) !== marked.has(p)) wrong.push(p);
        expect(wrong).toEqual([]);
      },
    ),
    { numRuns: 30 },
  );
});

test('the unmarked ranges of the bitmap are exactly the pages never marked, in order and merged', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(100_000), fc.integer({ min: 1, max: 70_000 })), { maxLength: 12 }),
      // Lengths that end inside a page, before the marks and past them.
      fc.integer({ min: 1, max: 140_000 * PAGE }),
      (ranges, length) => {
        const w = new WrittenPages(PAGE);
        for (const [page, pages] of ranges) w.mark(page * PAGE, pages * PAGE);
        const want: [number, number][] = [];
        for (let p = 0; p * PAGE < length; p++) {
          if (w.any(p * PAGE, PAGE)) continue;
          const last = want[want.length - 1];
          const end = Math.min(length, (p + 1) * PAGE);
          if (last && last[1] === p * PAGE) last[1] = end;
          else want.push([p * PAGE, end]);
        }
        expect([...w.unmarked(length)]).toEqual(want);
      },
    ),
    { numRuns: 40 },
  );
});
