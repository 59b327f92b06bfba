/** `--extract` on hostile RAM block lists: sizes no machine has, thousands of blocks, zip bombs. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { deflateSync } from 'zlib';
import { extractStream } from '../src/analyze/extract';
import { MalformedError, UnsupportedError, VMStateError } from '../src/errors';
import { bytesSource } from '../src/stream/source';
import { memoryBuilder } from './fixtures/stream-helpers';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-extract-hostile-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stream with these RAM blocks, each given one page record, and a small vmdesc. */
function streamWith(
  blocks: { name: string; length: bigint }[],
  page: (block: string) => Parameters<ReturnType<typeof memoryBuilder>['b']['page']>[0],
): Uint8Array {
  const { b, bytes } = memoryBuilder();
  b.header().configuration({ machineType: 'pc-i440fx-7.2' }).ramStart(2, blocks);
  b.ramPages(
    'end',
    2,
    blocks.map((x) => page(x.name)),
  );
  b.eof().vmdesc();
  return bytes();
}

async function extractError(bytes: Uint8Array, name: string): Promise<unknown> {
  const out = path.join(dir, name);
  const e = await extractStream(bytesSource(bytes), out).then(
    () => 'ok',
    (x: unknown) => x,
  );
  expect(fs.existsSync(out)).toBe(false);
  expect(fs.readdirSync(dir).filter((n) => n.startsWith(`.${name}.tmp-`))).toEqual([]);
  return e;
}

test('a 2^52-byte block (more than any machine) is refused as input, not an EFBIG crash', async () => {
  const bytes = streamWith([{ name: 'pc.ram', length: 2n ** 52n + 4096n }], (block) => ({
    block,
    addr: 0n,
    kind: 'zero',
  }));
  const e = await extractError(bytes, 'huge');
  expect(e).toBeInstanceOf(UnsupportedError);
  expect((e as VMStateError).what).toMatch(/larger than any machine's memory/);
  expect((e as VMStateError).offset).toBeGreaterThan(0);
});

test('a compressed page that inflates past one page is refused (no output beyond the page size)', async () => {
  // The builder deflates the page it is given: 4 MiB of zeros deflate to ~4 KiB (within
  // compressBound of one page), which inflate back to 4 MiB.
  const bomb = new Uint8Array(4 << 20);
  expect(deflateSync(bomb).length).toBeLessThan(4200);
  const bytes = streamWith([{ name: 'pc.ram', length: 64n << 20n }], (block) => ({
    block,
    addr: 0n,
    kind: 'compressed',
    data: bomb,
  }));
  const e = await extractError(bytes, 'bomb');
  expect(e).toBeInstanceOf(MalformedError);
  expect((e as VMStateError).what).toMatch(/at most one page/);
});

test('2,000 RAM blocks extract under a 1,024 open-file limit (no descriptor kept per block)', () => {
  const blocks = Array.from({ length: 2000 }, (_, i) => ({ name: `b${i}`, length: 8192n }));
  const page = new Uint8Array(4096).fill(0xab);
  const bytes = streamWith(blocks, (block) => ({ block, addr: 4096n, kind: 'page', data: page }));
  const file = path.join(dir, 'many.mig');
  fs.writeFileSync(file, bytes);
  const out = path.join(dir, 'many');
  const cli = path.resolve(__dirname, '..', 'src', 'cli', 'main.ts');
  const r = spawnSync(
    'bash',
    [
      '-c',
      'ulimit -n 1024 && exec node -r ts-node/register/transpile-only "$0" analyze "$1" --extract "$2"',
      cli,
      file,
      out,
    ],
    { encoding: 'utf8', cwd: path.resolve(__dirname, '..'), timeout: 90_000 },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(fs.readdirSync(out).length).toBe(2002);
  const b1999 = fs.readFileSync(path.join(out, 'b1999'));
  expect(b1999.length).toBe(8192);
  expect(b1999.subarray(4096).every((x) => x === 0xab)).toBe(true);
});
