/**
 * The native splice link's counters when the destination hangs up in the middle of a piece: the
 * link moves the source's bytes on in pieces of up to 1 MiB, and a destination that reads the
 * first part of one and closes (QEMU refusing the configuration at the start of the stream) must
 * still be counted as having been handed that part, and the tap's copy must hold all of it.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { SpliceLink, spliceLinkAvailable } from '../src/tap/splice-link';

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-splice-link-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const linked = spliceLinkAvailable() ? test : test.skip;

/** A connected pair over loopback TCP: [the end the test writes, the end the link reads]. */
async function tcpPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const writer = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((r) => writer.once('connect', r));
  const reader = await accepted;
  server.close();
  return [writer, reader];
}

linked(
  'a destination that reads part of the first piece and closes: forwarded and teed count what it read',
  async () => {
    // The destination: a unix socket (a small buffer, so the link's write of a 1 MiB piece
    // blocks part way) that reads 64 KiB or more and closes.
    const destPath = path.join(dir, 'dest.sock');
    let read = 0;
    const destDone = new Promise<void>((resolve) => {
      const server = net.createServer((s) => {
        s.on('data', (d: Buffer) => {
          read += d.length;
          if (read >= 64 * 1024) {
            s.destroy();
            server.close();
            resolve();
          }
        });
        s.on('error', () => undefined);
      });
      server.listen(destPath);
    });
    const dest = net.connect({ path: destPath, allowHalfOpen: true });
    await new Promise((r) => dest.once('connect', r));
    dest.pause();

    // The source: 4 MiB waiting before the link starts, so that its first piece is a whole one.
    const [writer, source] = await tcpPair();
    writer.on('error', () => undefined);
    writer.write(Buffer.alloc(4 << 20, 0x5a));
    await new Promise((r) => setTimeout(r, 100));

    const link = SpliceLink.open(source, dest)!;
    expect(link).toBeDefined();
    let copied = 0;
    link.tee.on('data', (d: Buffer) => (copied += d.length));
    link.tee.on('error', () => undefined);
    // The copy is read to its end after the link has closed (its pipe holds the rest).
    const copyEnded = new Promise<void>((r) => link.tee.once('close', () => r()));
    link.tee.resume();
    const gone = new Promise<{ teed: number }>((resolve) => {
      const seen = () => resolve({ teed: link.teed });
      link.once('dest-gone', seen);
      link.once('dest-end', seen);
    });
    const closed = new Promise<void>((r) => link.once('closed', () => r()));
    await destDone;
    const atGone = await gone;
    // All the destination read was in the copy by then: the tap judges every byte of it.
    expect(atGone.teed).toBeGreaterThanOrEqual(read);
    link.destroySource();
    writer.destroy();
    await closed;
    // Nothing goes on after the destination went: the count now is every byte handed to it,
    // the part of the piece it read among them.
    const [forwarded] = link.counters();
    expect(forwarded).toBeGreaterThanOrEqual(read);
    expect(forwarded).toBeLessThanOrEqual(atGone.teed);
    await copyEnded;
    expect(copied).toBeGreaterThanOrEqual(read);
  },
  20_000,
);
