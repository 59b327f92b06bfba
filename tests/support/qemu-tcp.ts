/**
 * Two live QEMUs joined over loopback TCP, for tests that sit between them (`vmstate tap`): a
 * source that is told `migrate tcp:127.0.0.1:P` and keeps running afterwards, and a destination
 * started with `-incoming tcp:127.0.0.1:Q`. Both are ended by close(); every wait is bounded.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  applyMigrationSettings,
  delay,
  machineArgs,
  makeWorkDir,
  parseInfoRegisters,
  QemuProcess,
  resolveMachineType,
  type CaptureOptions,
  type CpuRegisters,
} from './qemu';

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface LiveVm {
  qemu: QemuProcess;
  machineType: string;
  /** `info registers` of vCPU 0, parsed. */
  registers(): Promise<CpuRegisters>;
  /** query-status's status ('paused', 'running', 'postmigrate', 'inmigrate'...). */
  status(): Promise<string>;
  /** Starts `migrate` to `uri` and waits for completed/failed/cancelled (or the deadline); the answer. */
  migrate(uri: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Waits for an incoming migration to end: 'completed', or the failure (7.2 exits after a failed load). */
  incomingResult(timeoutMs?: number): Promise<{ ok: boolean; status: string; error: string }>;
  close(): Promise<void>;
}

/**
 * Starts a VM like the capture harness does (zero BIOS, no firmware). `incoming` adds
 * `-incoming URI` (e.g. tcp:127.0.0.1:4444), after which QEMU listens for the stream.
 */
export async function startVm(opts: CaptureOptions & { incoming?: string } = {}): Promise<LiveVm> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const work = makeWorkDir(opts.biosCode);
  const args = [...machineArgs(opts, work)];
  (opts.ramLoads ?? []).forEach((load, i) => {
    let file = load.file;
    if (!file) {
      file = path.join(work.dir, `load${i}.bin`);
      fs.writeFileSync(file, load.data ?? new Uint8Array());
    }
    args.push(
      '-device',
      `loader,file=${path.resolve(file)},addr=0x${load.addr.toString(16)},force-raw=on`,
    );
  });
  if (opts.incoming) args.push('-incoming', opts.incoming);
  let qemu: QemuProcess;
  try {
    qemu = await QemuProcess.start(args, work.qmpSocket, deadline - Date.now(), opts.release);
  } catch (e) {
    fs.rmSync(work.dir, { recursive: true, force: true });
    throw e;
  }
  const q = qemu;
  const close = async () => {
    try {
      await q.quit();
    } finally {
      await q.kill();
      fs.rmSync(work.dir, { recursive: true, force: true });
    }
  };
  try {
    await applyMigrationSettings(q, opts);
    const machineType = opts.incoming
      ? (opts.machine ?? 'pc')
      : await resolveMachineType(q, opts.machine ?? 'pc');
    if (!opts.incoming && opts.runMs !== undefined) {
      await q.qmp.execute('cont');
      await delay(opts.runMs);
      await q.qmp.execute('stop');
    }
    const query = () => q.qmp.execute<Record<string, unknown>>('query-migrate', undefined, 10_000);
    return {
      qemu: q,
      machineType,
      registers: async () => parseInfoRegisters(await q.qmp.hmp('info registers', { cpuIndex: 0 })),
      status: async () =>
        String(
          (await q.qmp.execute<Record<string, unknown>>('query-status', undefined, 10_000)).status,
        ),
      migrate: async (uri, timeoutMs = 60_000) => {
        await q.qmp.execute('migrate', { uri });
        const end = Date.now() + timeoutMs;
        for (;;) {
          const info = await query();
          const status = String(info.status ?? '');
          if (status === 'completed' || status === 'failed' || status === 'cancelled') return info;
          if (Date.now() > end) return { ...info, status: `timeout (${status})` };
          await delay(20);
        }
      },
      incomingResult: async (timeoutMs = 60_000) => {
        const end = Date.now() + timeoutMs;
        for (;;) {
          if (q.hasExited) return { ok: false, status: q.describeExit(), error: q.stderr.trim() };
          let info: Record<string, unknown>;
          try {
            info = await query();
          } catch {
            if (await q.waitExit(5_000)) continue;
            return { ok: false, status: 'no answer', error: q.stderr.trim() };
          }
          const status = String(info.status ?? '');
          if (status === 'completed') return { ok: true, status, error: '' };
          if (status === 'failed' || status === 'cancelled')
            return {
              ok: false,
              status,
              error: `${String(info['error-desc'] ?? '')} ${q.stderr.trim()}`,
            };
          if (Date.now() > end)
            return { ok: false, status: `timeout (${status})`, error: q.stderr.trim() };
          await delay(20);
        }
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** `exec:` URI writing the stream to `file` (whole: a temp name renamed once cat finished). */
export function execToFile(file: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.partial`);
  return `exec:cat > ${q(tmp)} && mv ${q(tmp)} ${q(file)}`;
}

/** Waits (bounded) until `file` exists: exec: migrations finish writing after QEMU says completed. */
export async function waitForFile(file: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > end) throw new Error(`${file} was not written`);
    await delay(10);
  }
}
