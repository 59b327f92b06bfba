import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { blockFilePath, extractStream } from '../src/analyze/extract';
import { bytesSource, fileSource } from '../src/stream/source';
import { analyzerOutput, readStream, streamPath } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-extract-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('--extract', () => {
  test('writes desc.json, one file per RAM block and state.json, as analyze-migration.py -x', async () => {
    const out = path.join(dir, 'q35');
    const src = await fileSource(streamPath('q35-nodefaults-paused'));
    const r = await extractStream(src, out).finally(() => src.close());
    expect(r.files).toEqual([
      'desc.json',
      'pc.ram',
      path.join('rom@etc', 'acpi', 'tables'),
      'pc.bios',
      'pc.rom',
      path.join('rom@etc', 'table-loader'),
      path.join('rom@etc', 'acpi', 'rsdp'),
      'state.json',
    ]);
    expect(fs.readFileSync(path.join(out, 'desc.json'), 'utf8')).toBe(
      analyzerOutput('q35-nodefaults-paused', 'desc').replace(/\n$/, ''),
    );
    expect(fs.readFileSync(path.join(out, 'state.json'), 'utf8')).toBe(
      analyzerOutput('q35-nodefaults-paused', 'state').replace(/\n$/, ''),
    );
    const ram = fs.readFileSync(path.join(out, 'pc.ram'));
    expect(ram.length).toBe(0x2000000);
    expect(ram.every((b) => b === 0)).toBe(true);
    const tables = fs.readFileSync(path.join(out, 'rom@etc/acpi/tables'));
    expect(tables.length).toBe(0x20000);
    // Q35's ACPI tables fill three pages; the rest of the block is zero.
    expect(tables.subarray(0x3000).every((b) => b === 0)).toBe(true);
    expect(tables.subarray(0, 0x3000).some((b) => b !== 0)).toBe(true);
    expect(
      fs.readFileSync(path.join(out, 'rom@etc/acpi/rsdp')).subarray(0, 8).toString('latin1'),
    ).toBe('RSD PTR ');
  });

  test('the CLI prints the written files; a failure leaves no directory behind', async () => {
    const out = path.join(dir, 'cli');
    const r = await runCli(['analyze', streamPath('pc-nodefaults-paused'), '--extract', out]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('desc.json');
    expect(fs.existsSync(path.join(out, 'state.json'))).toBe(true);

    const cut = path.join(dir, 'cut.mig');
    fs.writeFileSync(cut, readStream('pc-nodefaults-paused').subarray(0, 150000));
    const failed = path.join(dir, 'failed');
    const f = await runCli(['analyze', cut, '--extract', failed]);
    expect(f.code).toBe(3);
    expect(fs.existsSync(failed)).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.failed'))).toEqual([]);
  });

  test('block ids that would leave the directory are refused', () => {
    expect(blockFilePath('/rom@etc/acpi/tables')).toBe(path.join('rom@etc', 'acpi', 'tables'));
    for (const bad of ['../x', '/a/../../b', 'desc.json', '', '/'])
      expect(() => blockFilePath(bad)).toThrow();
  });

  test('extract from memory, page contents at their offsets', async () => {
    const out = path.join(dir, 'mem');
    await extractStream(bytesSource(readStream('pc-nodefaults-running')), out);
    const loader = fs.readFileSync(path.join(out, 'rom@etc/table-loader'));
    expect(loader.length).toBe(0x1000);
    expect(loader.some((b) => b !== 0)).toBe(true);
  });
});

describe('--extract of synthesized page kinds', () => {
  test.each([
    ['in place', undefined],
    ['by the writer thread', 0],
  ])(
    'zero pages with a fill byte, data pages, compressed pages and XBZRLE deltas land in the block file (%s)',
    async (_, threadAfterBytes) => {
      const { memoryBuilder } = await import('./fixtures/stream-helpers');
      const page = (seed: number) =>
        Uint8Array.from({ length: 4096 }, (_, i) => (i * 3 + seed) & 0xff);
      const { b, bytes } = memoryBuilder();
      b.header()
        .configuration({ machineType: 'x' })
        .ramStart(1, [{ name: 'pc.ram', length: 0x8000n }]);
      b.ramPages('part', 1, [
        { block: 'pc.ram', addr: 0x0n, kind: 'zero', fill: 0x5a },
        { block: 'pc.ram', addr: 0x1000n, kind: 'page', data: page(1) },
        { block: 'pc.ram', addr: 0x2000n, kind: 'compressed', data: page(2) },
        // zero run 4 (keep bytes 0-3), literal of 2 bytes (aa bb), zero run 0x80 (ULEB128: 80 01), literal 1 (cc)
        {
          block: 'pc.ram',
          addr: 0x1000n,
          kind: 'xbzrle',
          delta: Uint8Array.of(0x04, 0x02, 0xaa, 0xbb, 0x80, 0x01, 0x01, 0xcc),
        },
      ]);
      b.ramPages('end', 1, []).eof();
      const out = path.join(dir, `synth-${threadAfterBytes}`);
      await extractStream(bytesSource(bytes()), out, { threadAfterBytes });
      const ram = fs.readFileSync(path.join(out, 'pc.ram'));
      expect(ram.length).toBe(0x8000);
      expect(ram.subarray(0, 0x1000).every((x) => x === 0x5a)).toBe(true);
      const expected1 = Buffer.from(page(1));
      expected1[4] = 0xaa;
      expected1[5] = 0xbb;
      expected1[6 + 0x80] = 0xcc;
      expect(Buffer.compare(ram.subarray(0x1000, 0x2000), expected1)).toBe(0);
      expect(Buffer.compare(ram.subarray(0x2000, 0x3000), Buffer.from(page(2)))).toBe(0);
      expect(ram.subarray(0x3000).every((x) => x === 0)).toBe(true);
    },
  );
});

test('a large extract written by the writer thread equals one written in place, run after run into the same directory', async () => {
  const { writeSyntheticStream } = await import('../src/stream/synth');
  const file = path.join(dir, 'big.mig');
  // 24 MiB of RAM, every third page data: runs of one page and runs cut by the 1 MiB slots.
  await writeSyntheticStream(file, { ramBytes: 24 << 20, dataEvery: 3 });
  const extract = async (out: string, threadAfterBytes: number | undefined) => {
    const src = await fileSource(file);
    await extractStream(src, out, { threadAfterBytes }).finally(() => src.close());
    return fs.readFileSync(path.join(out, 'pc.ram'));
  };
  const inPlace = await extract(path.join(dir, 'big-in-place'), 1 << 40);
  const threaded = path.join(dir, 'big-threaded');
  for (let run = 0; run < 2; run++) {
    const ram = await extract(threaded, 0);
    expect(ram.length).toBe(24 << 20);
    expect(Buffer.compare(ram, inPlace)).toBe(0);
  }
  expect(inPlace[0x3000]).toBe(3); // the synthesizer's pattern: page i starts with i & 0xff
  expect(inPlace[0x1000]).toBe(0);
});
