import { Readable } from 'stream';
import { StreamEncoder } from '../src/stream/encoder';
import { MemorySink } from '../src/stream/sink';
import { readableSource } from '../src/stream/source';
import { walkStream } from '../src/stream/walk';
import { REAL_STREAMS, readStream } from './fixtures/qemu-streams';
import { reencodeBytes } from './fixtures/stream-helpers';

describe.each(REAL_STREAMS)('byte-identical re-encode of %s', (name) => {
  const bytes = readStream(name);

  test('in 1 MiB chunks', async () => {
    const out = await reencodeBytes(bytes);
    expect(out.length).toBe(bytes.length);
    expect(Buffer.compare(Buffer.from(out), Buffer.from(bytes))).toBe(0);
  });

  test('in odd small chunks (windows grow and slide across records)', async () => {
    const out = await reencodeBytes(bytes, {}, 1021);
    expect(Buffer.compare(Buffer.from(out), Buffer.from(bytes))).toBe(0);
  });

  test('from a non-seekable readable (the vmdesc is found by buffering the tail)', async () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 3000)
      chunks.push(Buffer.from(bytes.subarray(i, i + 3000)));
    const sink = new MemorySink();
    const summary = await walkStream(
      readableSource(Readable.from(chunks)),
      new StreamEncoder(sink),
    );
    expect(summary.vmdescFrom).toBe('buffered-tail');
    expect(Buffer.compare(Buffer.from(sink.bytes()), Buffer.from(bytes))).toBe(0);
  });
});
