/**
 * The tap's slab reader: chunks are views of reused slabs, so a chunk must stay intact until the
 * owner releases its offset, and released slabs must be reused (memory bounded by what is held).
 */
import { randomBytes } from 'crypto';
import * as net from 'net';
import { SlabReader } from '../src/tap/slab-reader';

/** A connected pair on loopback: the accepted side (paused, as the tap's server gives it) and the client. */
async function pair(): Promise<{ accepted: net.Socket; client: net.Socket; close: () => void }> {
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect(port, '127.0.0.1');
  const a = await accepted;
  server.close();
  return { accepted: a, client, close: () => client.destroy() };
}

test('held chunks stay intact while released slabs are reused', async () => {
  const total = 40 << 20;
  const keep = 10 << 20;
  const sent = randomBytes(total);
  const { accepted, client, close } = await pair();
  const held: { at: number; bytes: Uint8Array }[] = [];
  const buffers = new Set<ArrayBufferLike>();
  let offset = 0;
  let intactOnArrival = true;
  const reader = new SlabReader(
    accepted,
    (bytes) => {
      buffers.add(bytes.buffer);
      if (!Buffer.from(bytes).equals(sent.subarray(offset, offset + bytes.length)))
        intactOnArrival = false;
      held.push({ at: offset, bytes });
      offset += bytes.length;
      // Everything but the last `keep` bytes is done with.
      while (held.length > 0 && held[0].at + held[0].bytes.length <= offset - keep) held.shift();
      reader.release(held.length > 0 ? held[0].at : offset);
    },
    { allowHalfOpen: true },
  );
  const ended = new Promise<void>((resolve) => reader.socket.once('end', () => resolve()));
  reader.socket.resume();
  client.end(sent);
  await ended;
  close();
  expect(offset).toBe(total);
  expect(intactOnArrival).toBe(true);
  // What is still held was not overwritten by later reads.
  for (const h of held)
    expect(Buffer.from(h.bytes).equals(sent.subarray(h.at, h.at + h.bytes.length))).toBe(true);
  // Slabs were reused: at most what 10 MiB held needs (and a small pool), not one per 2 MiB read.
  expect(buffers.size).toBeLessThan(total / (4 << 20));
});
