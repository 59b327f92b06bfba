import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readStreamContents } from '../src/stream/collect';
import { fileSource } from '../src/stream/source';
import { writeSyntheticStream } from '../src/stream/synth';
import { transcodeToFile } from '../src/stream/transcode';

/**
 * Memory stays bounded whatever the stream size: a stream much larger than the allowed growth is
 * walked (and re-encoded) while the bytes held in ArrayBuffers are sampled.
 */
const RAM_BYTES = 384 * 1024 * 1024;
const BOUND = 48 * 1024 * 1024;

let dir: string;
let file: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-mem-'));
  file = path.join(dir, 'big.mig');
  await writeSyntheticStream(file, { ramBytes: RAM_BYTES, dataEvery: 1 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function sampler() {
  const base = process.memoryUsage().arrayBuffers;
  let peak = 0;
  let n = 0;
  return {
    sample() {
      if (++n % 512 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    },
    get peak() {
      return peak;
    },
  };
}

test('analyzing a stream larger than the bound holds no more than the bound', async () => {
  const s = sampler();
  const src = await fileSource(file);
  let pages = 0;
  const c = await readStreamContents(src, {
    onRam: (r) => {
      if (r.kind === 'page') pages++;
      s.sample();
    },
  }).finally(() => src.close());
  expect(fs.statSync(file).size).toBeGreaterThan(RAM_BYTES);
  expect(pages).toBe(RAM_BYTES / 4096);
  expect(c.ram.blocks[0].pages).toBe(RAM_BYTES / 4096);
  expect(s.peak).toBeLessThan(BOUND);
});

test('re-encoding it streams to the output, byte-identical, within the same bound', async () => {
  const out = path.join(dir, 'copy.mig');
  const s = sampler();
  const src = await fileSource(file);
  await transcodeToFile(src, out, { onProgress: () => s.sample() }).finally(() => src.close());
  expect(s.peak).toBeLessThan(BOUND);
  const a = fs.openSync(file, 'r');
  const b = fs.openSync(out, 'r');
  try {
    expect(fs.fstatSync(b).size).toBe(fs.fstatSync(a).size);
    const ba = Buffer.alloc(8 << 20);
    const bb = Buffer.alloc(8 << 20);
    for (;;) {
      const na = fs.readSync(a, ba);
      const nb = fs.readSync(b, bb);
      expect(nb).toBe(na);
      if (na === 0) break;
      expect(ba.subarray(0, na).equals(bb.subarray(0, nb))).toBe(true);
    }
  } finally {
    fs.closeSync(a);
    fs.closeSync(b);
  }
});
