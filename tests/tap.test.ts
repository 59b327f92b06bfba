/**
 * `vmstate tap` between a fake source and a fake destination on loopback, replaying streams real
 * QEMU 7.2 wrote: every byte forwarded unchanged both ways, predict's verdict, an abort that
 * stops right before the refused record, a cut stream (exit 3, nothing saved), usage errors.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { readStreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';
import { writeSyntheticStream } from '../src/stream/synth';
import { spliceLinkAvailable } from '../src/tap/splice-link';
import { tapMigration } from '../src/tap/tap';
import { readStream, streamPath } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';
import { freePort } from './support/qemu-tcp';

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-tap-unit-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A destination that keeps what it receives and answers on the return path once it has `answerAfter` bytes. */
async function fakeDestination(answerAfter = 1) {
  const server = net.createServer();
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
  const got: Buffer[] = [];
  let answered = false;
  const closed = new Promise<void>((resolve) => {
    server.once('connection', (s) => {
      s.on('data', (d: Buffer) => {
        got.push(d);
        if (!answered && Buffer.concat(got).length >= answerAfter) {
          answered = true;
          s.write('RETURN-PATH');
        }
      });
      s.on('end', () => s.end());
      s.on('close', () => resolve());
      s.on('error', () => undefined);
    });
  });
  return {
    port,
    closed,
    bytes: () => Buffer.concat(got),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A source that connects (retrying while the tap starts), sends `bytes` in small chunks and reads the answer. */
async function fakeSource(port: number, bytes: Uint8Array) {
  let s: net.Socket | undefined;
  for (let i = 0; i < 100 && !s; i++) {
    s = await new Promise<net.Socket | undefined>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => resolve(c));
      c.once('error', () => resolve(undefined));
    });
    if (!s) await delay(20);
  }
  if (!s) throw new Error('tap did not listen');
  const back: Buffer[] = [];
  s.on('data', (d: Buffer) => back.push(d));
  s.on('error', () => undefined);
  for (let at = 0; at < bytes.length; at += 7000) {
    if (!s.write(bytes.subarray(at, at + 7000))) await new Promise((r) => s.once('drain', r));
  }
  s.end();
  await new Promise((r) => s.once('close', r));
  return Buffer.concat(back);
}

async function tap(args: string[], bytes: Uint8Array, answerAfter?: number) {
  const dest = await fakeDestination(answerAfter);
  const port = await freePort();
  const cli = runCli([
    'tap',
    '--listen',
    `tcp:127.0.0.1:${port}`,
    '--forward',
    `tcp:127.0.0.1:${dest.port}`,
    ...args,
  ]);
  const back = await fakeSource(port, bytes);
  const r = await cli;
  await dest.close();
  return { ...r, forwarded: dest.bytes(), back };
}

/**
 * Both ways of forwarding: in the kernel (the native splice link, built by `npm install`; CI must
 * have it) and by this process (VMSTATE_SPLICE_LINK=off, as where the link cannot be built).
 */
const FORWARDINGS = ['splice', 'node'] as const;
const linkBuilt = spliceLinkAvailable();
test('the native splice link is built (on Linux: npm install builds it with node-gyp)', () => {
  if (process.platform !== 'linux' || (!linkBuilt && !process.env.VMSTATE_REQUIRE_QEMU)) return;
  expect(linkBuilt).toBe(true);
});

describe.each(FORWARDINGS)(
  'vmstate tap (fake QEMUs, real streams), forwarding: %s',
  (forwarding) => {
    const stream = readStream('pc-nodefaults-running');
    const skip = forwarding === 'splice' && !linkBuilt;
    beforeAll(() => {
      if (forwarding === 'node') process.env.VMSTATE_SPLICE_LINK = 'off';
    });
    afterAll(() => {
      delete process.env.VMSTATE_SPLICE_LINK;
    });
    // Where the link is not built, the splice half has nothing to test (the test above fails in CI).
    const it = skip ? test.skip : test;

    it('forwards every byte unchanged, the return path too; sections, verdict, summary, --save', async () => {
      const saved = path.join(dir, 'saved.mig');
      const r = await tap(['--save', saved, '--check', '7.2'], stream);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.forwarded.equals(Buffer.from(stream))).toBe(true);
      expect(r.back.toString()).toBe('RETURN-PATH');
      expect(fs.readFileSync(saved).equals(Buffer.from(stream))).toBe(true);
      expect(r.stdout).toMatch(/configuration: machine pc-i440fx-7\.2 {2}\[ok\]/);
      expect(r.stdout).toMatch(/FULL cpu#0 v12: \d+ bytes {2}\[ok\]/);
      // The verdict is the one `vmstate predict` prints for the stream.
      const predicted = await runCli(['predict', saved, '--to', '7.2']);
      expect(predicted.stdout).toMatch(
        /^ok \(7\.2 on pc-i440fx-7\.2 loads all \d+ section\(s\)\)\n$/,
      );
      expect(r.stdout).toContain(`verdict: ${predicted.stdout}`);
      expect(r.stdout).toMatch(/passed: \d+ bytes from the source/);
      expect(r.stdout).toContain('tap: QEMU migration stream v3');
      expect(r.stdout).toContain(
        forwarding === 'splice' ? 'forwarded in the kernel (splice)' : 'forwarded by this process',
      );
    });

    it('--json: one object per line, a summary last', async () => {
      const r = await tap(['--json', '--check', '7.2'], stream);
      expect(r.code).toBe(0);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; verdict?: { prediction?: unknown } });
      expect(lines[0].type).toBe('listening');
      expect(lines.filter((l) => l.type === 'section').length).toBeGreaterThan(20);
      const summary = lines[lines.length - 1];
      expect(summary).toMatchObject({ type: 'summary', verdict: { accepted: true } });
      // The prediction is predict's own, field for field.
      const file = path.join(dir, 'json.mig');
      fs.writeFileSync(file, stream);
      const predicted = await runCli(['predict', file, '--to', '7.2', '--json']);
      expect(summary.verdict?.prediction).toEqual(JSON.parse(predicted.stdout));
    });

    it('--abort-on-refusal stops right before the refused section: the destination never sees its first byte', async () => {
      // The timer section claims version 99, which 7.2 (version 2) refuses.
      const contents = await readStreamContents(bytesSource(stream));
      const timer = contents.entries.find(
        (e) => e.type === 'section' && e.section.idstr === 'timer',
      );
      if (timer?.type !== 'section') throw new Error('no timer section');
      const bad = stream.slice();
      const versionAt = timer.section.bodyOffset - 4;
      bad.set([0, 0, 0, 99], versionAt);
      const saved = path.join(dir, 'aborted.mig');
      const r = await tap(['--check', '7.2', '--abort-on-refusal', '--save', saved], bad);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        `ABORTED: timer#0 at 0x${timer.section.offset.toString(16)}: savevm: unsupported version 99 for 'timer' v2`,
      );
      expect(r.forwarded.equals(Buffer.from(bad.subarray(0, timer.section.offset)))).toBe(true);
      expect(fs.existsSync(saved)).toBe(false);
      // Without the abort, the whole stream passes and the verdict says what 7.2 would do.
      const passed = await tap(['--check', '7.2'], bad);
      expect(passed.code).toBe(1);
      expect(passed.forwarded.length).toBe(bad.length);
      // The same refusal, first failing section and QEMU's lines as `vmstate predict` gives.
      const file = path.join(dir, 'bad.mig');
      fs.writeFileSync(file, bad);
      const predicted = await runCli(['predict', file, '--to', '7.2']);
      expect(predicted.code).toBe(1);
      expect(predicted.stdout).toMatch(
        /^refused \(7\.2 on pc-i440fx-7\.2\): savevm: unsupported version 99/,
      );
      expect(passed.stdout).toContain(`verdict: ${predicted.stdout}`);
    });

    it('--machine: a stream of another machine type is refused at the configuration', async () => {
      const r = await tap(
        ['--check', '7.2', '--machine', 'pc-q35-7.2', '--abort-on-refusal'],
        stream,
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        "Machine type received is 'pc-i440fx-7.2' and local is 'pc-q35-7.2'",
      );
      expect(r.forwarded.length).toBe(8);
    });

    it('the source hangs up mid-stream: exit 3 naming the offset, nothing saved', async () => {
      const saved = path.join(dir, 'cut.mig');
      const r = await tap(['--save', saved], stream.subarray(0, 120_000));
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        /^vmstate: tap: offset 0x1d4c0, source: the source closed the connection mid-stream, after 120000 byte\(s\)/,
      );
      expect(r.forwarded.length).toBe(120_000);
      expect(fs.readdirSync(dir).filter((f) => f.includes('cut.mig'))).toEqual([]);
    });

    it('usage errors exit 2', async () => {
      for (const args of [
        ['tap', '--listen', 'tcp:127.0.0.1', '--forward', 'tcp:127.0.0.1:1'],
        ['tap', '--listen', 'tcp:127.0.0.1:1', '--forward', 'udp:x'],
        [
          'tap',
          '--listen',
          'tcp:127.0.0.1:1',
          '--forward',
          'tcp:127.0.0.1:2',
          '--abort-on-refusal',
        ],
        ['tap', '--listen', 'tcp:127.0.0.1:1', '--forward', 'tcp:127.0.0.1:2', '--check', '9.9'],
        [
          'tap',
          '--listen',
          'tcp:127.0.0.1:1',
          '--forward',
          'tcp:127.0.0.1:2',
          '--check',
          '7.2',
          '--machine',
          'pc-q35-1.0',
        ],
        ['tap', '--listen', 'tcp:127.0.0.1:1', '--forward', 'tcp:127.0.0.1:2', '--machine', 'pc'],
        ['tap', '--forward', 'tcp:127.0.0.1:2'],
        // Checked before listening (else this would wait for a source).
        [
          'tap',
          '--listen',
          'tcp:127.0.0.1:0',
          '--forward',
          'tcp:127.0.0.1:2',
          '--save',
          path.join(dir, 'no', 'such', 'dir', 'x.mig'),
        ],
        [
          'tap',
          '--listen',
          `unix:${path.join(dir, 'no', 'such', 'dir', 's')}`,
          '--forward',
          'tcp:127.0.0.1:2',
        ],
      ]) {
        const r = await runCli(args);
        expect(r.code).toBe(2);
      }
    });

    it('unix sockets both ways: every byte forwarded, the return path too', async () => {
      const destPath = path.join(dir, `dest-${forwarding}.sock`);
      const listenPath = path.join(dir, `tap-${forwarding}.sock`);
      const got: Buffer[] = [];
      const server = net.createServer((s) => {
        s.on('data', (d: Buffer) => got.push(d));
        s.write('RETURN-PATH');
        s.on('end', () => s.end());
      });
      await new Promise<void>((resolve) => server.listen(destPath, () => resolve()));
      const result = tapMigration({
        listen: { kind: 'unix', path: listenPath },
        forward: { kind: 'unix', path: destPath },
        onEvent: (e) => {
          if (e.type !== 'listening') return;
          const s = net.connect(listenPath);
          const back: Buffer[] = [];
          s.on('data', (d: Buffer) => back.push(d));
          s.on('close', () => answered(Buffer.concat(back).toString()));
          s.end(stream);
        },
      });
      let answered!: (text: string) => void;
      const answer = new Promise<string>((r) => (answered = r));
      const r = await result;
      expect(await answer).toBe('RETURN-PATH');
      await new Promise<void>((resolve) => server.close(() => resolve()));
      expect(r.forwarding).toBe(forwarding);
      expect(Buffer.concat(got).equals(Buffer.from(stream))).toBe(true);
      expect(r.stats).toMatchObject({
        bytes: stream.length,
        forwarded: stream.length,
        returnBytes: 11,
      });
    });

    it('a destination that has it all and hangs up before the decoder is done: a complete migration', async () => {
      // The destination closes as soon as the source's FIN reaches it; the decoder is held up on
      // every section, so (forwarding in the kernel) it is far behind when the destination goes.
      const server = net.createServer((s) => {
        s.resume();
        s.on('end', () => s.destroy());
      });
      const destPort = await new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
      );
      let listenPort!: (p: number) => void;
      const port = new Promise<number>((r) => (listenPort = r));
      const result = tapMigration({
        listen: { kind: 'tcp', host: '127.0.0.1', port: 0 },
        forward: { kind: 'tcp', host: '127.0.0.1', port: destPort },
        // A small queue: the copy is read in pieces, its end long after the destination's.
        maxBufferedBytes: 16 * 1024,
        onEvent: (e) => {
          if (e.type === 'listening') listenPort(Number(e.address.split(':').pop()));
          if (e.type === 'section') {
            const until = Date.now() + 5;
            while (Date.now() < until);
          }
        },
      });
      const s = net.connect(await port, '127.0.0.1');
      s.on('data', () => undefined);
      s.on('error', () => undefined);
      s.end(stream);
      const r = await result;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      expect(r.forwarding).toBe(forwarding);
      expect(r.stats).toMatchObject({ bytes: stream.length, forwarded: stream.length });
      expect(r.contents?.entries.length).toBeGreaterThan(20);
    });

    it('--save through a symlink: the link stays, its file gets the stream', async () => {
      const target = path.join(dir, `linked-${forwarding}.mig`);
      const link = path.join(dir, `link-${forwarding}.mig`);
      fs.writeFileSync(target, 'old');
      fs.symlinkSync(target, link);
      const r = await tap(['--save', link], stream);
      expect(r.code).toBe(0);
      expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
      expect(fs.readFileSync(target).equals(Buffer.from(stream))).toBe(true);
    });

    it('the analyzer reads what --save wrote', async () => {
      const saved = path.join(dir, 'again.mig');
      const r = await tap(['--save', saved], readStream('q35-nodefaults-paused'));
      expect(r.code).toBe(0);
      const a = await runCli(['analyze', saved, '--format', 'qemu']);
      const b = await runCli(['analyze', streamPath('q35-nodefaults-paused'), '--format', 'qemu']);
      expect(a.code).toBe(0);
      expect(a.stdout).toBe(b.stdout);
    });
  },
);

describe.each(FORWARDINGS)('vmstate tap: many slabs, forwarding: %s', (forwarding) => {
  const it = forwarding === 'splice' && !linkBuilt ? test.skip : test;
  beforeAll(() => {
    if (forwarding === 'node') process.env.VMSTATE_SPLICE_LINK = 'off';
  });
  afterAll(() => {
    delete process.env.VMSTATE_SPLICE_LINK;
  });
  it('a stream of many slabs through a slow destination arrives byte for byte, saved the same', async () => {
    const file = path.join(dir, 'big.mig');
    await writeSyntheticStream(file, { ramBytes: 48 << 20, dataEvery: 2 });
    const bytes = fs.readFileSync(file);
    // A destination that stops reading now and then: the tap must hold slabs until written.
    const got = createHash('sha256');
    let received = 0;
    const server = net.createServer((s) => {
      s.on('data', (d: Buffer) => {
        got.update(d);
        received += d.length;
        if (received % (6 << 20) < d.length) {
          s.pause();
          setTimeout(() => s.resume(), 150);
        }
      });
      s.on('end', () => s.end());
    });
    const destPort = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
    );
    const saved = path.join(dir, 'big-saved.mig');
    let listenPort!: (p: number) => void;
    const port = new Promise<number>((r) => (listenPort = r));
    const result = tapMigration({
      listen: { kind: 'tcp', host: '127.0.0.1', port: 0 },
      forward: { kind: 'tcp', host: '127.0.0.1', port: destPort },
      save: saved,
      // A small decoder queue: the source is paused and resumed many times.
      maxBufferedBytes: 1 << 20,
      onEvent: (e) => {
        if (e.type === 'listening') listenPort(Number(e.address.split(':').pop()));
      },
    });
    const s = net.connect(await port, '127.0.0.1');
    s.on('data', () => undefined);
    s.end(bytes);
    const r = await result;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(received).toBe(bytes.length);
    expect(got.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(fs.readFileSync(saved).equals(bytes)).toBe(true);
    expect(r.forwarding).toBe(forwarding);
    expect(r.stats).toMatchObject({ bytes: bytes.length, forwarded: bytes.length });
    expect(r.stats.pages).toBe((48 << 20) / 4096);
    // The summary counts every page as analyze does (the tap asks the walker for runs of pages).
    expect(r.contents?.ram).toEqual((await readStreamContents(bytesSource(bytes))).ram);
  }, 60_000);
});
