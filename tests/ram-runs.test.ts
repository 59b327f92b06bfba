/**
 * The page-skipping path (StreamVisitor.ramPages 'runs'): what a visitor learns of RAM from runs
 * is what it learns from one record per page, and a damaged RAM section fails with the same
 * error (class, offset, path, message) whichever way its pages are read.
 */
import fc from 'fast-check';
import { analysisJsonBytes } from '../src/analyze/json-format';
import { readStreamContents } from '../src/stream/collect';
import { PageTally, countPages, readRamRecord, RamState, isPageRecord } from '../src/stream/ram';
import { ByteReader } from '../src/bytes/reader';
import type { StreamRecord } from '../src/stream/records';
import { bytesSource } from '../src/stream/source';
import type { SynthPage } from '../src/stream/synth';
import { walkStream } from '../src/stream/walk';
import { memoryBuilder } from './fixtures/stream-helpers';
import {
  arbPage,
  committedStreams,
  mixedStream,
  pattern,
  readStream,
} from './fixtures/ram-streams';

const PAGE = 4096;

/** The collector's view of a stream (everything analyze prints), or the error that stopped it. */
async function outcome(bytes: Uint8Array, runs: boolean, chunk?: number): Promise<string> {
  try {
    const c = await readStreamContents(bytesSource(bytes, chunk), runs ? {} : { onRam: () => {} });
    return Buffer.from(analysisJsonBytes(c)).toString();
  } catch (e) {
    const err = e as Error & { offset?: number; path?: string };
    return `${err.constructor.name} @${err.offset} [${err.path}] ${err.message}`;
  }
}

/** Every event of a walk, with page runs as given. */
async function events(bytes: Uint8Array, ramPages: 'records' | 'runs'): Promise<StreamRecord[]> {
  const out: StreamRecord[] = [];
  await walkStream(bytesSource(bytes, 4096), { ramPages, record: (r) => out.push(r) });
  return out;
}

describe('RAM pages in runs', () => {
  test('every committed stream: runs give what records give (analyze output), in any chunking', async () => {
    const files = committedStreams();
    expect(files.length).toBeGreaterThan(100);
    for (const f of files) {
      const bytes = readStream(f);
      // Small chunks (a refill every page) on the uncompressed real captures; all at 1 MiB.
      for (const chunk of f.includes('qemu-7.2') && !f.endsWith('.gz')
        ? [1 << 20, 4093]
        : [1 << 20]) {
        const runs = await outcome(bytes, true, chunk);
        expect({ f, chunk, runs }).toEqual({ f, chunk, runs: await outcome(bytes, false, chunk) });
      }
    }
  });

  test('runs step over the pages: no event per page, and the runs tile the page records', async () => {
    const pages: SynthPage[] = [];
    for (let i = 0; i < 64; i++)
      pages.push(
        i % 3
          ? { block: 'pc.ram', addr: BigInt(i * PAGE), kind: 'page', data: pattern(i) }
          : { block: 'pc.ram', addr: BigInt(i * PAGE), kind: 'zero', fill: i % 2 },
      );
    const bytes = mixedStream(pages);
    const rec = await events(bytes, 'records');
    const run = await events(bytes, 'runs');
    const pageOffsets = rec.flatMap((e) =>
      e.type === 'ram' && isPageRecord(e.record) ? [e.record.offset] : [],
    );
    expect(pageOffsets.length).toBe(65);
    expect(run.some((e) => e.type === 'ram' && isPageRecord(e.record))).toBe(false);
    const runs = run.flatMap((e) => (e.type === 'ram-pages' ? [e] : []));
    // 64 pages in one block read in 4 KiB chunks: a few runs, not one per page.
    expect(runs.length).toBeLessThan(20);
    expect(runs.reduce((n, r) => n + r.records, 0)).toBe(65);
    expect(runs.reduce((n, r) => n + r.nonZeroFill, 0)).toBe(11);
    // Each run starts at a page record and ends where the next record starts.
    const starts = new Set(pageOffsets);
    const next = new Map<number, number>();
    const all = rec.flatMap((e) =>
      e.type === 'ram' ? [e.record.offset] : e.type === 'footer' ? [e.offset] : [],
    );
    for (let i = 0; i + 1 < all.length; i++) next.set(all[i], all[i + 1]);
    let covered = 0;
    for (const r of runs) {
      expect(starts.has(r.offset)).toBe(true);
      let at = r.offset;
      for (let k = 0; k < r.records; k++) at = next.get(at)!;
      expect(r.end).toBe(at);
      covered += r.records;
    }
    expect(covered).toBe(pageOffsets.length);
  });

  test('random page sequences: same contents; every cut and every corrupted byte of RAM fails alike', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbPage, { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(4096, 4099, 1 << 20),
        async (pages, hits, chunk) => {
          const bytes = mixedStream(pages);
          expect(await outcome(bytes, true, chunk)).toBe(await outcome(bytes, false, chunk));
          // Cuts and corruption inside the RAM records (past the START section).
          const from = 0x40;
          for (const [at, v] of hits) {
            const i = from + (at % (bytes.length - from));
            expect(await outcome(bytes.subarray(0, i), true, chunk)).toBe(
              await outcome(bytes.subarray(0, i), false, chunk),
            );
            const bad = bytes.slice();
            bad[i] = v;
            expect(await outcome(bad, true, chunk)).toBe(await outcome(bad, false, chunk));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('a page past its block, cut or with unknown flags: the error names the record', async () => {
    const pages: SynthPage[] = [];
    for (let i = 0; i < 40; i++)
      pages.push({ block: 'pc.ram', addr: BigInt(i * PAGE), kind: 'page', data: pattern(i) });
    const bytes = mixedStream(pages);
    const offsets = (await events(bytes, 'records')).flatMap((e) =>
      e.type === 'ram' && isPageRecord(e.record) ? [e.record.offset] : [],
    );
    const at = offsets[30];
    // Address 0x7fff000 is outside pc.ram (0x40000 bytes).
    const outside = bytes.slice();
    outside[at + 4] = 0x07;
    expect(await outcome(outside, true)).toBe(
      `MalformedError @${at} [ram#0 (section 2) > pc.ram] RAM offset 0x701e000 outside block 'pc.ram' (length 0x40000) (at byte 0x${at.toString(16)}, ram#0 (section 2) > pc.ram)`,
    );
    const flags = bytes.slice();
    flags[at + 7] = 0x2c; // PAGE|CONTINUE|MEM_SIZE
    expect(await outcome(flags, true)).toMatch(
      new RegExp(
        `^MalformedError @${at} \\[ram#0 \\(section 2\\)\\] unknown combination of RAM flags 0x2c`,
      ),
    );
    const cut = await outcome(bytes.subarray(0, at + 100), true);
    expect(cut).toMatch(/^TruncatedError @\d+ \[ram#0 \(section 2\)\]/);
    expect(cut).toBe(await outcome(bytes.subarray(0, at + 100), false));
  });

  test('countPages takes exactly the records readRamRecord reads as CONTINUE data or zero pages', () => {
    fc.assert(
      fc.property(fc.array(arbPage, { minLength: 1, maxLength: 30 }), (pages) => {
        const { b, bytes } = memoryBuilder();
        b.page({ block: 'pc.ram', addr: 0n, kind: 'zero' });
        for (const p of pages) b.page(p);
        const all = bytes();
        const state = new RamState(PAGE, false, false);
        const info = { name: 'pc.ram', length: 0x40000n };
        state.blocks.set('pc.ram', info).set('vga.vram', { name: 'vga.vram', length: 0x8000n });
        const first = new ByteReader(all);
        state.apply(readRamRecord(first, state, 'ram'));
        const t = new PageTally();
        const end = countPages(all, first.pos, all.length, PAGE, 0x40000, t);
        // The same records, one by one.
        const r = new ByteReader(all, 0);
        r.pos = first.pos;
        const byFlags = new Map<number, number>();
        let n = 0;
        while (r.pos < end) {
          const rec = readRamRecord(r, state, 'ram');
          expect(rec.kind === 'page' || rec.kind === 'zero').toBe(true);
          expect((rec.flags & 0x20) !== 0 && isPageRecord(rec) && rec.block === 'pc.ram').toBe(
            true,
          );
          byFlags.set(rec.flags, (byFlags.get(rec.flags) ?? 0) + 1);
          n++;
        }
        expect(r.pos).toBe(end);
        const c = t.counts();
        expect(c.records).toBe(n);
        expect(c.byFlags).toEqual(byFlags);
        // Where it stopped is a record it does not take: another block, another kind, or the end.
        if (end < all.length) {
          const rec = readRamRecord(new ByteReader(all.subarray(end), end), state, 'ram');
          const taken =
            (rec.kind === 'page' || rec.kind === 'zero') && rec.continued && rec.block === 'pc.ram';
          expect(taken).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('RAM block lists', () => {
  function blockListStream(n: number): Uint8Array {
    const { b, bytes } = memoryBuilder();
    b.header().configuration({ machineType: 'pc-i440fx-7.2' });
    b.ramStart(
      2,
      Array.from({ length: n }, (_, i) => ({ name: `block${i}`, length: 4096n })),
    );
    b.ramPages('end', 2, [{ block: 'block7', addr: 0n, kind: 'zero' }]);
    b.eof().vmdesc();
    return bytes();
  }

  test('more blocks than the limit: refused at the first block over it', async () => {
    const bytes = blockListStream(101);
    const limits = { maxRamBlocks: 100 };
    const at = Buffer.from(bytes).indexOf('\u0008block100');
    await expect(readStreamContents(bytesSource(bytes), { limits })).rejects.toMatchObject({
      code: 'limit-exceeded',
      offset: at,
      what: 'RAM block list of 101 blocks exceeds the limit of 100',
    });
    const c = await readStreamContents(bytesSource(blockListStream(100)), { limits });
    expect(c.ram.blocks.length).toBe(100);
    expect(c.ram.blocks[7].zeroPages).toBe(1);
  });

  test('4,000 blocks with 255-byte names, in a window smaller than the list: every name, in order', async () => {
    const { b, bytes } = memoryBuilder();
    b.header().configuration({ machineType: 'pc-i440fx-7.2' });
    const names = Array.from({ length: 4000 }, (_, i) => `${i}-`.padEnd(255, 'n'));
    b.ramStart(
      2,
      names.map((name) => ({ name, length: 4096n })),
    );
    b.ramPages('end', 2, [{ block: names[3999], addr: 0n, kind: 'page', data: pattern(1) }]);
    b.eof().vmdesc();
    const c = await readStreamContents(bytesSource(bytes(), 65536));
    expect(c.ram.blocks.map((x) => x.name)).toEqual(names);
    expect(c.ram.blocks[3999].pages).toBe(1);
  });
});
