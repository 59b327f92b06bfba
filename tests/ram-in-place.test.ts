/**
 * RAM page records walked in place, through the file's mapping (src/stream/native/file-pages.c):
 * the native scan takes what countPages and takePages take, with the same counts, stretches and
 * zero pages; a file cut while mapped is "nothing taken", not a crash; and analyze, extract and
 * reencode of a file give what they give from the same bytes read in, damaged streams included.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { extractStream } from '../src/analyze/extract';
import { loadNativeModule } from '../src/bytes/native-module';
import { readStreamContents } from '../src/stream/collect';
import { FilePages, ScanStatus } from '../src/stream/file-pages';
import { PageTally, countPages, takePages } from '../src/stream/ram';
import { pagesInPlace } from '../src/stream/ram-in-place';
import type { PageBytesSink } from '../src/stream/records';
import { bytesSource, fileSource, type ChunkSource } from '../src/stream/source';
import { transcodeToFile } from '../src/stream/transcode';
import { arbPage, committedStreams, mixedStream, readStream } from './fixtures/ram-streams';
import { describeWithFilePages } from './support/native-file-pages';

const maybe = describeWithFilePages;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-in-place-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
function fileOf(bytes: Uint8Array): string {
  const f = path.join(dir, `s${n++}.bin`);
  fs.writeFileSync(f, bytes);
  return f;
}

/** A file's FilePages (size as given, to make a file that is shorter than its mapping). */
function openPages(file: string, size = fs.statSync(file).size): { fp: FilePages; close(): void } {
  const fd = fs.openSync(file, 'r');
  return { fp: FilePages.of(fd, size)!, close: () => fs.closeSync(fd) };
}

// Record soup: data and zero pages of one block (some past its end), and records the scan
// leaves (no CONTINUE, EOS, XBZRLE, an address of 2^53 or more).
type Soup =
  | { k: 'page'; page: number }
  | { k: 'zero'; page: number; fill: number }
  | { k: 'other'; flags: number }
  | { k: 'huge' };

const arbSoup = (pages: number): fc.Arbitrary<Soup[]> =>
  fc.array(
    fc.oneof(
      { weight: 10, arbitrary: fc.constant({ k: 'page' as const, page: -1 }) },
      { weight: 6, arbitrary: fc.nat(pages + 8).map((page) => ({ k: 'page' as const, page })) },
      {
        weight: 5,
        arbitrary: fc
          .tuple(fc.nat(pages + 8), fc.constantFrom(0, 0, 0, 9))
          .map(([page, fill]) => ({ k: 'zero' as const, page, fill })),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(0x08, 0x10, 0x22 | 0x40, 0x28 | 0x100, 0x20 | 0x200)
          .map((flags) => ({ k: 'other' as const, flags })),
      },
      { weight: 1, arbitrary: fc.constant({ k: 'huge' as const }) },
    ),
    { maxLength: 120 },
  );

function soupBytes(soup: Soup[], pageSize: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let last = 0;
  const header = (hi: number, lo: number) => {
    const h = Buffer.alloc(8);
    h.writeUInt32BE(hi, 0);
    h.writeUInt32BE(lo >>> 0, 4);
    return h;
  };
  for (const r of soup) {
    if (r.k === 'page') {
      const page = r.page < 0 ? last + 1 : r.page;
      last = page;
      parts.push(header(0, page * pageSize + 0x28));
      parts.push(new Uint8Array(pageSize).fill((page * 7) & 0xff));
    } else if (r.k === 'zero') {
      last = r.page;
      parts.push(header(0, r.page * pageSize + 0x22), Uint8Array.of(r.fill));
    } else if (r.k === 'other') parts.push(header(0, 0x1000 * pageSize + r.flags));
    else parts.push(header(0x200000, 0x28));
  }
  return Buffer.concat(parts);
}

type Op = [kind: 's', addr: number, from: number, count: number] | [kind: 'z', addr: number];

/** Stretches that follow each other (a window's end may split one) joined. */
function joined(ops: Op[], pageSize: number): Op[] {
  const out: Op[] = [];
  for (const op of ops) {
    const prev = out[out.length - 1];
    if (
      op[0] === 's' &&
      prev?.[0] === 's' &&
      prev[1] + prev[3] * pageSize === op[1] &&
      prev[2] + prev[3] * (8 + pageSize) === op[2]
    )
      prev[3] += op[3];
    else out.push([...op] as Op);
  }
  return out;
}

/** The JavaScript walk of a whole buffer: where it stops, its counts and (stretches) its ops. */
function inJs(b: Uint8Array, pageSize: number, blockLength: number, stretches: boolean) {
  const t = new PageTally();
  const ops: Op[] = [];
  const end = stretches
    ? takePages(
        b,
        0,
        b.length,
        pageSize,
        blockLength,
        t,
        (addr, from, count) => ops.push(['s', addr, from, count]),
        (addr) => ops.push(['z', addr]),
      )
    : countPages(b, 0, b.length, pageSize, blockLength, t);
  return { end, counts: t.counts(), ops: joined(ops, pageSize) };
}

/** The same through the file's mapping, from `prefix` (offsets given back relative to it). */
function inPlace(
  fp: FilePages,
  prefix: number,
  pageSize: number,
  blockLength: number,
  stretches: boolean,
) {
  const t = new PageTally();
  const ops: Op[] = [];
  const sink: PageBytesSink | undefined = stretches
    ? {
        pages: () => {
          throw new Error('pages() is not for stretches in the file');
        },
        pageRecord: () => {
          throw new Error('no records expected');
        },
        zeroPage: (_b, addr) => ops.push(['z', addr]),
        filePages: (block, addr, file, from, count) => {
          expect([block, file]).toEqual(['blk', fp]);
          ops.push(['s', addr, from - prefix, count]);
        },
      }
    : undefined;
  let at = prefix;
  let calls = 0;
  for (let more = true; more; calls++) {
    const step = pagesInPlace(fp, at, pageSize, blockLength, 'blk', t, sink);
    expect(step.to).toBeGreaterThanOrEqual(at);
    at = step.to;
    more = step.more;
  }
  return { end: at - prefix, counts: t.counts(), ops: joined(ops, pageSize), calls };
}

maybe('the native scan', () => {
  test('takes what countPages and takePages take: where it stops, counts, stretches, zero pages', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(4096, 4096, 1024, 65536),
        fc.nat(5000),
        fc.nat(70),
        fc.boolean(),
        arbSoup(64),
        (pageSize, prefix, blockPages, stretches, soup) => {
          const b = soupBytes(soup, pageSize);
          const file = fileOf(Buffer.concat([Buffer.alloc(prefix, 0x5a), b]));
          const { fp, close } = openPages(file);
          try {
            const blockLength = blockPages * pageSize;
            const { calls, ...got } = inPlace(fp, prefix, pageSize, blockLength, stretches);
            expect(got).toEqual(inJs(b, pageSize, blockLength, stretches));
            expect(calls).toBeGreaterThanOrEqual(1);
          } finally {
            close();
            fs.rmSync(file);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a run longer than a mapped window: the same counts and one stretch, in several calls', () => {
    const pageSize = 4096;
    const soup: Soup[] = Array.from({ length: 6000 }, (_, i) =>
      i === 2500 ? { k: 'zero', page: 2500, fill: 0 } : { k: 'page', page: -1 },
    );
    const b = soupBytes(soup, pageSize); // 24.6 MB: three windows and more
    const file = fileOf(Buffer.concat([Buffer.alloc(777), b]));
    const { fp, close } = openPages(file);
    try {
      for (const stretches of [false, true]) {
        const { calls, ...got } = inPlace(fp, 777, pageSize, Infinity, stretches);
        expect(calls).toBeGreaterThanOrEqual(3);
        const js = inJs(b, pageSize, Infinity, stretches);
        expect(got).toEqual(js);
        expect(js.end).toBe(b.length);
        if (stretches) expect(js.ops.length).toBe(3); // 2500 pages, the zero page, 3499 pages
      }
    } finally {
      close();
    }
  });

  test('entries never run past the array: a small one is filled and scanned again, to the same result', () => {
    type Native = {
      scan(...a: [number, number, number, number, number, boolean, Float64Array]): number;
    };
    const mod = loadNativeModule<Native>('file_pages', 'VMSTATE_FILE_PAGES')!;
    const pageSize = 4096;
    // Every record changes the flags and ends a stretch: three entries a zero page.
    const soup: Soup[] = Array.from({ length: 900 }, (_, i) =>
      i % 2 ? { k: 'zero', page: i, fill: 0 } : { k: 'page', page: i },
    );
    const b = soupBytes(soup, pageSize);
    const file = fileOf(b);
    const fd = fs.openSync(file, 'r');
    try {
      for (const cap of [8, 9, 10, 11, 12, 13]) {
        const canary = 12345.5;
        const store = new Float64Array(8 + 4 * cap + 64).fill(canary);
        const ops = store.subarray(0, 8 + 4 * cap);
        const ops2: Op[] = [];
        const t = new PageTally();
        let at = 0;
        for (let calls = 0; ; calls++) {
          const n = mod.scan(fd, at, b.length, pageSize, Infinity, true, ops);
          expect(n).toBeLessThanOrEqual(cap);
          expect([...store.subarray(8 + 4 * cap)].every((v) => v === canary)).toBe(true);
          for (let i = 0; i < n; i++) {
            const [kind, x, y, z] = ops.subarray(8 + 4 * i, 12 + 4 * i);
            if (kind === 0) t.flags(x, y);
            else if (kind === 1) ops2.push(['s', x, y, z]);
            else ops2.push(['z', x]);
          }
          t.pages += ops[2];
          t.zeroPages += ops[3];
          if (ops[1] !== ScanStatus.More) {
            at = ops[0];
            break;
          }
          expect(ops[0]).toBeGreaterThan(at);
          at = ops[0];
          expect(calls).toBeLessThan(2000);
        }
        expect({ end: at, counts: t.counts(), ops: joined(ops2, pageSize) }).toEqual(
          inJs(b, pageSize, Infinity, true),
        );
      }
    } finally {
      fs.closeSync(fd);
    }
  });

  test('a file cut shorter than its mapping: nothing taken, no signal reaches the process', () => {
    const pageSize = 4096;
    const b = soupBytes(
      Array.from({ length: 40 }, () => ({ k: 'page', page: -1 }) as Soup),
      pageSize,
    );
    const file = fileOf(b);
    // Cut at a page boundary: the header of record 10 (at 41,040) is past the end of the file,
    // in a page of the mapping that no longer has a page behind it (SIGBUS on reading it).
    fs.truncateSync(file, 40960);
    const { fp, close } = openPages(file, b.length);
    try {
      for (const stretches of [false, true]) {
        const s = fp.scan(0, pageSize, Infinity, stretches);
        expect(s.status).toBe(ScanStatus.Fault);
        expect([s.pos, s.pages, s.entries]).toEqual([0, 0, 0]);
        const t = new PageTally();
        expect(pagesInPlace(fp, 0, pageSize, Infinity, 'blk', t, undefined)).toEqual({
          to: 0,
          more: false,
        });
        expect(t.counts().records).toBe(0);
      }
      // The records before the cut are still taken from where the mapping has pages.
      const s = fp.scan(0, pageSize, 10 * pageSize, false);
      expect([s.status, s.pos, s.pages]).toEqual([ScanStatus.Stop, 9 * 4104, 9]);

      // Writing pages from past the cut: what is there is written, and fewer bytes are reported.
      const outFile = path.join(dir, 'out.bin');
      const out = fs.openSync(outFile, 'w+');
      try {
        const wrote = fp.writePages(8 * 4104 + 8, 4104, pageSize, 4, out, 0);
        expect(wrote).toBeGreaterThanOrEqual(pageSize);
        expect(wrote).toBeLessThan(2 * pageSize);
        const back = fs.readFileSync(outFile);
        expect(back.length).toBe(wrote);
        expect(back.subarray(0, pageSize)).toEqual(Buffer.from(b.subarray(8 * 4104 + 8, 9 * 4104)));
        expect(fp.writePages(11 * 4104 + 8, 4104, pageSize, 2, out, 0)).toBe(0);
      } finally {
        fs.closeSync(out);
      }
    } finally {
      close();
    }
  });

  test('writePages writes strided pages in order, across windows; a failed write throws its errno', () => {
    const pageSize = 4096;
    const b = soupBytes(
      Array.from({ length: 3000 }, () => ({ k: 'page', page: -1 }) as Soup),
      pageSize,
    );
    const file = fileOf(Buffer.concat([Buffer.alloc(3), b]));
    const { fp, close } = openPages(file);
    const outFile = path.join(dir, 'pages.bin');
    const out = fs.openSync(outFile, 'w+');
    try {
      expect(fp.writePages(3 + 8, 4104, pageSize, 3000, out, 100)).toBe(3000 * pageSize);
      const back = fs.readFileSync(outFile);
      expect(back.length).toBe(100 + 3000 * pageSize);
      for (const i of [0, 1, 1023, 1024, 2047, 2048, 2999])
        expect(back[100 + i * pageSize + 17]).toBe(((i + 1) * 7) & 0xff);
      const hash = (x: Uint8Array) => createHash('sha256').update(x).digest('hex');
      const want = Buffer.concat(
        Array.from({ length: 3000 }, (_, i) => b.subarray(i * 4104 + 8, (i + 1) * 4104)),
      );
      expect(hash(back.subarray(100))).toBe(hash(want));
    } finally {
      fs.closeSync(out);
    }
    const ro = fs.openSync(outFile, 'r');
    try {
      expect(() => fp.writePages(3 + 8, 4104, pageSize, 2, ro, 0)).toThrow(
        expect.objectContaining({ code: 'EBADF' }),
      );
    } finally {
      fs.closeSync(ro);
      close();
    }
  });
});

/** Everything a walk's result holds, comparable (bytes as hex, maps as entries). */
function plain(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x: unknown) =>
      typeof x === 'bigint'
        ? `${x}n`
        : x instanceof Uint8Array
          ? Buffer.from(x).toString('hex')
          : x instanceof Map
            ? [...x.entries()]
            : x,
    ),
  );
}

/** Windows of 4 KiB, and every run that goes on past one walked in place. */
const IN_PLACE = { limits: { inPlaceMinBytes: 0, chunkBytes: 4096 } };
const READ_IN = { limits: { chunkBytes: 4096 } };

/** What a run gives, or the error that stopped it (class, offset, path, message). */
async function outcome<T>(run: () => Promise<T>): Promise<unknown> {
  try {
    return plain(await run());
  } catch (e) {
    const err = e as Error & { offset?: number; path?: string };
    return `${err.constructor.name} @${err.offset} [${err.path}] ${err.message}`;
  }
}

async function closing<T>(source: ChunkSource, run: (s: ChunkSource) => Promise<T>): Promise<T> {
  try {
    return await run(source);
  } finally {
    await source.close();
  }
}

function listing(d: string): string[] {
  return fs
    .readdirSync(d, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const f = path.join(e.parentPath, e.name);
      return `${path.relative(d, f)} ${createHash('sha256').update(fs.readFileSync(f)).digest('hex')}`;
    })
    .sort();
}

/** analyze's contents, extract's files and reencode's bytes of `bytes`, read from a file in place. */
async function throughFile(bytes: Uint8Array, chunk: number, inPlace: boolean) {
  const file = fileOf(bytes);
  const src = () =>
    inPlace ? fileSource(file, chunk) : Promise.resolve(bytesSource(bytes, chunk));
  const opts = inPlace ? IN_PLACE : READ_IN;
  try {
    const contents = await outcome(async () =>
      closing(await src(), (s) => readStreamContents(s, opts)),
    );
    const out = path.join(dir, `x${n++}`);
    const extract = await outcome(async () =>
      closing(await src(), async (s) => {
        const r = await extractStream(s, out, { ...opts, threadAfterBytes: 1 << 16 });
        return [r.files, listing(out)];
      }),
    );
    fs.rmSync(out, { recursive: true, force: true });
    const re = path.join(dir, `r${n++}.mig`);
    const reencode = await outcome(async () =>
      closing(await src(), async (s) => {
        await transcodeToFile(s, re, { ...opts, inputFile: inPlace ? file : undefined });
        return createHash('sha256').update(fs.readFileSync(re)).digest('hex');
      }),
    );
    fs.rmSync(re, { force: true });
    return { contents, extract, reencode };
  } finally {
    fs.rmSync(file);
  }
}

/** Pages the native scan took since the last call (so a test knows the walk went in place). */
let taken = 0;
function takenSince(): number {
  const t = taken;
  taken = 0;
  return t;
}

maybe('analyze, extract and reencode in place', () => {
  beforeAll(() => {
    const scan = FilePages.prototype.scan;
    jest.spyOn(FilePages.prototype, 'scan').mockImplementation(function (this: FilePages, ...a) {
      const s = scan.apply(this, a);
      taken += s.pages + s.zeros;
      return s;
    });
  });
  afterAll(() => jest.restoreAllMocks());

  test('every committed stream: the same as from its bytes read in', async () => {
    const files = committedStreams();
    expect(files.length).toBeGreaterThan(100);
    let inPlace = 0;
    for (const f of files.filter((_, i) => i % 4 === 0)) {
      const bytes = readStream(f);
      takenSince();
      const got = await throughFile(bytes, 4096, true);
      if (takenSince() > 0) inPlace++;
      expect({ f, ...got }).toEqual({ f, ...(await throughFile(bytes, 4096, false)) });
    }
    // Not a comparison of walks that never went in place.
    expect(inPlace).toBeGreaterThan(10);
  }, 300_000);

  test('random pages, cuts and corrupted bytes: the same results and the same errors', async () => {
    let inPlaceRuns = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbPage, { minLength: 30, maxLength: 80 }),
        fc.tuple(fc.nat(), fc.nat(255)),
        fc.constantFrom(4096, 4099, 1 << 20),
        async (pages, [at, v], chunk) => {
          const bytes = mixedStream(pages);
          takenSince();
          expect(await throughFile(bytes, chunk, true)).toEqual(
            await throughFile(bytes, chunk, false),
          );
          const i = 0x40 + (at % (bytes.length - 0x40));
          const cut = bytes.subarray(0, i);
          expect(await throughFile(cut, chunk, true)).toEqual(await throughFile(cut, chunk, false));
          const bad = bytes.slice();
          bad[i] = v;
          expect(await throughFile(bad, chunk, true)).toEqual(await throughFile(bad, chunk, false));
          if (takenSince() > 0) inPlaceRuns++;
        },
      ),
      { numRuns: 40 },
    );
    expect(inPlaceRuns).toBeGreaterThan(20);
  }, 300_000);
});
