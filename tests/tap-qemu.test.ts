/**
 * `vmstate tap` between two real QEMUs over loopback TCP: 7.2 -> 7.2 through the tap completes
 * with the registers intact and a saved stream equal to a direct capture's device state; a
 * migration the destination refuses is predicted, and with --abort-on-refusal aborted with the
 * source still running; either connection lost mid-stream ends the tap with a clear error and
 * no saved file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StreamDiff } from '../src';
import { predictLoad } from '../src/predict/predict';
import { fileSource } from '../src/stream/source';
import { HOSTS, PLATFORMS } from '../vmstate/platforms';
import { predictCheck } from '../vmstate/tap-verdict';
import { parseTapAddress, type TapAddress } from '../src/tap/address';
import { tapMigration, TapConnectionError, type TapEvent, type TapOptions } from '../src/tap/tap';
import { runCli } from './fixtures/run-cli';
import {
  captureStreamDetailed,
  describeQemu,
  loadRegistersThenHalt,
  pseudoRandomBytes,
  type CaptureOptions,
} from './support/qemu';
import { freePort, startVm, type LiveVm } from './support/qemu-tcp';

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-tap-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const LOOPBACK: TapAddress = { kind: 'tcp', host: '127.0.0.1', port: 0 };

/** Starts the tap and resolves with its port once it listens, and the tap's own promise. */
function startTap(opts: Omit<TapOptions, 'listen'>, events: TapEvent[] = []) {
  let gotPort!: (p: number) => void;
  const port = new Promise<number>((r) => (gotPort = r));
  const result = tapMigration({
    ...opts,
    listen: LOOPBACK,
    acceptTimeoutMs: 30_000,
    idleTimeoutMs: 20_000,
    onEvent: (e) => {
      events.push(e);
      if (e.type === 'listening') gotPort((parseTapAddress(e.address) as { port: number }).port);
    },
  });
  // A failing tap must not be an unhandled rejection while the test awaits the port.
  result.catch(() => undefined);
  return { port, result, events };
}

async function withVms<T>(
  src: CaptureOptions,
  dst: CaptureOptions,
  fn: (source: LiveVm, dest: LiveVm, destPort: number) => Promise<T>,
): Promise<T> {
  const destPort = await freePort();
  const dest = await startVm({ ...dst, incoming: `tcp:127.0.0.1:${destPort}` });
  let source: LiveVm | undefined;
  try {
    source = await startVm(src);
    return await fn(source, dest, destPort);
  } finally {
    await source?.close();
    await dest.close();
  }
}

describeQemu('vmstate tap between two real QEMU 7.2', () => {
  const { code } = loadRegistersThenHalt({ eax: 0x11223344, ebx: 0x55667788, ecx: 0x99aabbcc });

  test('7.2 -> 7.2 through the tap: completes, same registers, saved stream = a direct capture', async () => {
    const saved = path.join(dir, 'tapped.mig');
    const vm = {
      machine: 'pc',
      biosCode: code,
      runMs: 200,
      ramLoads: [{ addr: 0x100000, data: pseudoRandomBytes(1 << 20) }],
    };
    // With the return path the destination answers the source over the same connection.
    const returnPath = { 'return-path': true };
    await withVms(
      { ...vm, capabilities: returnPath },
      { machine: 'pc', capabilities: returnPath },
      async (source, dest, destPort) => {
        const before = await source.registers();
        const tap = startTap({
          forward: { kind: 'tcp', host: '127.0.0.1', port: destPort },
          save: saved,
          check: predictCheck('7.2'),
        });
        const migration = await source.migrate(`tcp:127.0.0.1:${await tap.port}`);
        expect(migration.status).toBe('completed');
        const incoming = await dest.incomingResult();
        expect(incoming).toMatchObject({ ok: true });
        const result = await tap.result;
        expect(result.saved).toBe(saved);
        expect(result.stats.bytes).toBe(fs.statSync(saved).size);
        expect(result.stats.forwarded).toBe(result.stats.bytes);
        expect(result.stats.returnBytes).toBeGreaterThan(0);
        expect(result.stats.pages).toBeGreaterThan(256);
        expect(result.verdict).toMatchObject({
          release: '7.2',
          accepted: true,
          prediction: { outcome: 'ok', machineType: 'pc-i440fx-7.2' },
        });
        // It is `vmstate predict`'s verdict on the stream that passed.
        const src = await fileSource(saved);
        try {
          const predicted = await predictLoad(
            src,
            PLATFORMS.platform('7.2', 'pc-i440fx-7.2', HOSTS.tcg),
          );
          expect(result.verdict?.prediction).toEqual(predicted);
        } finally {
          await src.close();
        }
        // Every section passed by, in stream order, and the verdict came with the EOF.
        const sections = tap.events.filter((e) => e.type === 'section');
        expect(sections.map((e) => e.type === 'section' && e.idstr)).toContain('cpu');
        expect(tap.events.some((e) => e.type === 'eof' && e.verdict?.accepted)).toBe(true);
        const after = await dest.registers();
        expect(after.values).toEqual(before.values);
        expect(after.segments).toEqual(before.segments);
      },
    );
    // The saved stream is a whole stream: analyze reads it, and a direct capture of the same VM
    // differs from it in the clocks only.
    expect((await runCli(['analyze', saved, '--format', 'tree'])).code).toBe(0);
    const direct = path.join(dir, 'direct.mig');
    await captureStreamDetailed({ ...vm, out: direct });
    const r = await runCli(['diff', saved, direct, '--format', 'json', '--ram', 'pages']);
    const d = JSON.parse(r.stdout) as StreamDiff;
    expect(d.summary).toMatchObject({ onlyInA: 0, onlyInB: 0, pagesDiffer: 0, ramBlocksDiffer: 0 });
    const CLOCK =
      /^(timer\/cpu_(ticks|clock)_offset|mc146818rtc\/(base_rtc|last_update|update_timer|next_alarm_time|cmos_data)|i8254\/channels\[\d\]\.next_transition_time)$/;
    // The master PIC's IRQ0 edge latch follows the PIT: whether a tick was pending when each VM
    // stopped (its other lines must be the same).
    const pitLine = (
      idstr: string,
      instance: number,
      f: { path: string; a?: string; b?: string },
    ) =>
      idstr === 'i8259' &&
      instance === 0 &&
      f.path === 'last_irr' &&
      ((Number(f.a) ^ Number(f.b)) & ~1) === 0;
    const fields = d.sections.flatMap((s) =>
      s.fields.filter((f) => !pitLine(s.idstr, s.instance, f)).map((f) => `${s.idstr}/${f.path}`),
    );
    expect(fields.filter((f) => !CLOCK.test(f))).toEqual([]);
  });

  test('the source lost mid-stream: exit 3 with a clear message, nothing saved', async () => {
    const saved = path.join(dir, 'lost-source.mig');
    const slow = {
      machine: 'pc',
      parameters: { 'max-bandwidth': 2_000_000 },
      ramLoads: [{ addr: 0x100000, data: pseudoRandomBytes(8 << 20) }],
    };
    await withVms(slow, { machine: 'pc' }, async (source, _dest, destPort) => {
      const tap = startTap({
        forward: { kind: 'tcp', host: '127.0.0.1', port: destPort },
        save: saved,
      });
      await source.qemu.qmp.execute('migrate', { uri: `tcp:127.0.0.1:${await tap.port}` });
      await new Promise((r) => setTimeout(r, 800));
      await source.qemu.kill();
      const err = await tap.result.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TapConnectionError);
      expect((err as TapConnectionError).what).toMatch(
        /^(source connection lost|the source closed the connection) mid-stream, after \d+ byte\(s\)/,
      );
    });
    expect(fs.readdirSync(dir).filter((f) => f.includes('lost-source'))).toEqual([]);
  });

  test('the destination lost mid-stream: exit 3, the source reports a failed migration and keeps running', async () => {
    const saved = path.join(dir, 'lost-dest.mig');
    const slow = {
      machine: 'pc',
      parameters: { 'max-bandwidth': 2_000_000 },
      ramLoads: [{ addr: 0x100000, data: pseudoRandomBytes(8 << 20) }],
    };
    await withVms(slow, { machine: 'pc' }, async (source, dest, destPort) => {
      await source.qemu.qmp.execute('cont');
      const tap = startTap({
        forward: { kind: 'tcp', host: '127.0.0.1', port: destPort },
        save: saved,
      });
      await source.qemu.qmp.execute('migrate', { uri: `tcp:127.0.0.1:${await tap.port}` });
      await new Promise((r) => setTimeout(r, 800));
      await dest.qemu.kill();
      const err = await tap.result.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TapConnectionError);
      expect((err as TapConnectionError).what).toMatch(
        /^destination connection lost|^the destination closed the connection/,
      );
      expect((err as TapConnectionError).path).toBe('destination');
      let status = '';
      for (let i = 0; i < 250 && status !== 'failed'; i++) {
        const info = await source.qemu.qmp.execute<{ status?: string }>('query-migrate');
        status = String(info.status);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(status).toBe('failed');
      expect(await source.status()).toBe('running');
    });
    expect(fs.readdirSync(dir).filter((f) => f.includes('lost-dest'))).toEqual([]);
  });
});

describeQemu(
  'vmstate tap: a stream QEMU 7.2 refuses (10.0 on pc-q35-10.0 into 7.2 on pc-q35-7.2)',
  () => {
    // Big and slow enough that the source is still sending when the tap closes the connection.
    const src: CaptureOptions = {
      release: '10.0',
      machine: 'pc-q35-10.0',
      parameters: { 'max-bandwidth': 2_000_000 },
      ramLoads: [{ addr: 0x100000, data: pseudoRandomBytes(8 << 20) }],
    };
    const dst: CaptureOptions = { machine: 'pc-q35-7.2' };

    test('predicted before the destination says so, and the destination does refuse', async () => {
      await withVms(src, dst, async (source, dest, destPort) => {
        const tap = startTap({
          forward: { kind: 'tcp', host: '127.0.0.1', port: destPort },
          check: predictCheck('7.2', { machine: 'pc-q35-7.2' }),
        });
        await source.qemu.qmp.execute('migrate', { uri: `tcp:127.0.0.1:${await tap.port}` });
        const err = await tap.result.then(
          () => undefined,
          (e: unknown) => e,
        );
        const refusals = tap.events.flatMap((e) => (e.type === 'refusal' ? [e.refusal] : []));
        // Without a refusal, how the run ended and what the tap saw, for the failure to say why.
        if (refusals.length === 0)
          throw new Error(
            `no refusal event; the tap ended with ${String(err)}; its events: ${tap.events
              .slice(0, 60)
              .map((e) => (e.type === 'progress' ? `progress(${e.stats.bytes})` : e.type))
              .join(' ')}`,
          );
        expect(refusals[0]).toMatchObject({
          where: 'configuration',
          reason: "Machine type received is 'pc-q35-10.0' and local is 'pc-q35-7.2'",
          refusal: {
            reason: 'machine-type-mismatch',
            received: 'pc-q35-10.0',
            local: 'pc-q35-7.2',
          },
        });
        // Only the first refusal, as QEMU (and predict) stop there.
        expect(refusals).toHaveLength(1);
        const incoming = await dest.incomingResult();
        expect(incoming.ok).toBe(false);
        expect(incoming.error).toContain(
          "Machine type received is 'pc-q35-10.0' and local is 'pc-q35-7.2'",
        );
        // The destination hung up mid-stream: the tap says so, with the prediction.
        expect(err).toBeInstanceOf(TapConnectionError);
        expect((err as TapConnectionError).what).toContain('predicted: 7.2 refuses');
      });
    });

    test('--abort-on-refusal closes both connections first; the source fails the migration and runs on', async () => {
      await withVms(src, dst, async (source, dest, destPort) => {
        await source.qemu.qmp.execute('cont');
        const saved = path.join(dir, 'aborted.mig');
        const tap = startTap({
          forward: { kind: 'tcp', host: '127.0.0.1', port: destPort },
          check: predictCheck('7.2', { machine: 'pc-q35-7.2' }),
          abortOnRefusal: true,
          save: saved,
        });
        const migration = await source.migrate(`tcp:127.0.0.1:${await tap.port}`);
        const result = await tap.result;
        expect(result.aborted).toMatchObject({ where: 'configuration', offset: 8 });
        // Only the 8-byte header went through: the destination never saw the configuration.
        expect(result.stats.forwarded).toBe(8);
        expect(migration.status).toBe('failed');
        expect(await source.status()).toBe('running');
        const incoming = await dest.incomingResult();
        expect(incoming.ok).toBe(false);
        expect(incoming.error).not.toContain('Machine type received');
        expect(fs.existsSync(saved)).toBe(false);
      });
    });
  },
  '10.0',
);
