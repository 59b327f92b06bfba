import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { extractStream } from '../src/analyze/extract';
import { bytesSource } from '../src/stream/source';
import { STREAM_DIR } from './fixtures/qemu-streams';
import { contentsOf, reencodeBytes } from './fixtures/stream-helpers';

/** Real QEMU 7.2 streams with migration capabilities on (see streams/qemu-7.2/README.md). */
const read = (name: string) =>
  new Uint8Array(fs.readFileSync(path.join(STREAM_DIR, `${name}.mig`)));

/** The guest data loaded at 0x100000 for the compress capture. */
function pattern(): Uint8Array {
  let s = '';
  for (let i = 0; i < 40; i++) s += `vmstate-lab page ${String(i).padStart(6, '0')} `.repeat(100);
  return new TextEncoder().encode(s).subarray(0, 65536);
}

describe('x-ignore-shared and validate-uuid', () => {
  const bytes = read('pc-ignore-shared-uuid-paused');

  test('configuration subsections and the per-block mr->addr are decoded; everything re-encodes exactly', async () => {
    const c = await contentsOf(bytes);
    expect(c.configuration).toMatchObject({
      machineType: 'pc-i440fx-7.2',
      capabilities: ['x-ignore-shared'],
    });
    expect(Buffer.from(c.configuration!.uuid!).toString('hex')).toBe(
      '12345678123456789abcdef012345678',
    );
    expect(c.configuration!.subsections.map((s) => s.name)).toEqual([
      'configuration/capabilities',
      'configuration/uuid',
    ]);
    expect(c.ram.blocks).toHaveLength(6);
    expect(c.ram.blocks.every((b) => b.mrAddr !== undefined)).toBe(true);
    const sections = c.entries.flatMap((e) => (e.type === 'section' ? [e.section] : []));
    expect(sections.every((s) => s.decodedBy === 'vmdesc')).toBe(true);
    expect(Buffer.compare(Buffer.from(await reencodeBytes(bytes)), Buffer.from(bytes))).toBe(0);
  });
});

describe('compress', () => {
  const bytes = read('pc-compress-paused');

  test('COMPRESS_PAGE records are counted and re-encode exactly', async () => {
    const c = await contentsOf(bytes);
    expect(c.ram.recordsByFlags.get(0x120)).toBe(16);
    expect(c.ram.blocks[0]).toMatchObject({ name: 'pc.ram', compressedPages: 16 });
    expect(Buffer.compare(Buffer.from(await reencodeBytes(bytes)), Buffer.from(bytes))).toBe(0);
  });

  test('their payload is a zlib stream that inflates to the guest data (checked through --extract)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-compress-'));
    try {
      await extractStream(bytesSource(bytes), path.join(dir, 'x'));
      const ram = fs.readFileSync(path.join(dir, 'x', 'pc.ram'));
      expect(Buffer.compare(ram.subarray(0x100000, 0x110000), Buffer.from(pattern()))).toBe(0);
      expect(ram.subarray(0x110000).every((b) => b === 0)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
