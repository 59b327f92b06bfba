/**
 * The tap benchmark's floor peer: a byte forwarder that decodes nothing, with the tap's socket
 * options (paused accept, half-open both ways, a 2 MiB write high-water mark, no Nagle delay to the
 * destination). What it costs over a direct migration is what any proxy on this machine costs.
 *
 *   node forward.js LISTEN_PORT FORWARD_PORT [--slab]
 *
 * Plain: `source.pipe(dest)` and back, Node's own 64 KiB reads. `--slab`: the source read as the
 * tap reads it (src/tap/slab-reader: large reads into reused slabs), written on as it arrives.
 * Prints `listening on ...` and at the end `passed: N bytes from the source ..., CPU X s` (CPU
 * time since the source connected), as `vmstate tap` does, so the bench reads both alike.
 */
import * as net from 'net';
import { SlabReader } from '../../src/tap/slab-reader';

const [listenPort, forwardPort] = process.argv.slice(2, 4).map(Number);
const slab = process.argv.includes('--slab');
const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
server.listen(listenPort, '127.0.0.1', () =>
  console.log(`listening on tcp:127.0.0.1:${listenPort}`),
);
server.once('connection', (accepted) => {
  server.close();
  const cpu = process.cpuUsage();
  let bytes = 0;
  // writableHighWaterMark is a stream option net.connect passes on (its type does not list it).
  const opts = { allowHalfOpen: true, writableHighWaterMark: 2 * 1024 * 1024 };
  const dest = net.connect({ ...opts, port: forwardPort, host: '127.0.0.1', noDelay: true });
  let source = accepted;
  let reader: SlabReader | undefined;
  if (slab) {
    reader = new SlabReader(
      accepted,
      (chunk) => {
        bytes += chunk.length;
        if (!dest.write(chunk)) source.pause();
        reader!.release(bytes - dest.writableLength);
      },
      { allowHalfOpen: true },
    );
    source = reader.socket;
  }
  let closed = 0;
  const done = () => {
    if (++closed < 2) return;
    const u = process.cpuUsage(cpu);
    console.log(
      `passed: ${bytes} bytes from the source, CPU ${((u.user + u.system) / 1e6).toFixed(3)} s`,
    );
  };
  const fail = (side: string) => (e: Error) => {
    console.error(`${side}: ${e.message}`);
    process.exitCode = 3;
    source.destroy();
    dest.destroy();
  };
  source.on('error', fail('source'));
  dest.on('error', fail('destination'));
  source.on('close', done);
  dest.on('close', done);
  dest.once('connect', () => {
    if (reader) {
      dest.on('drain', () => {
        reader!.release(bytes - dest.writableLength);
        source.resume();
      });
      source.on('end', () => dest.end());
      source.resume();
    } else {
      source.on('data', (c: Buffer) => (bytes += c.length));
      source.pipe(dest);
    }
    dest.pipe(source);
  });
});
