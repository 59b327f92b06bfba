/**
 * `vmstate diff` and `vmstate tap` against their peers measured in the same run:
 * - diff of two 1 GiB streams (--ram pages) against analyzing both (goal: at most 2x);
 * - a migration of a 1 GiB guest (a quarter of it random data) through the tap against the same
 *   migration direct, two real QEMU 7.2 over loopback TCP (goal: at most 1.15x), with the tap's
 *   peak RSS (goal: at most 100 MiB).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeSyntheticStream } from '../../src/stream/synth';
import { pseudoRandomBytes, qemuAvailable } from '../support/qemu';
import { freePort, startVm, type LiveVm } from '../support/qemu-tcp';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const PRELOAD = path.join(__dirname, 'analyze-rss-preload.js');

interface Run {
  seconds: number;
  rssKiB: number;
}

function timeCli(args: string[], okCodes = [0]): Run {
  const rssFile = path.join(os.tmpdir(), `vmstate-bench-rss-${process.pid}`);
  fs.rmSync(rssFile, { force: true });
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-r', PRELOAD, CLI, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, VMSTATE_BENCH_RSS_FILE: rssFile },
  });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (!okCodes.includes(r.status ?? -1))
    throw new Error(
      `vmstate ${args.join(' ')} failed (${r.status}): ${r.stderr.toString().slice(0, 400)}`,
    );
  const rssKiB = fs.existsSync(rssFile)
    ? Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n')[0])
    : 0;
  fs.rmSync(rssFile, { force: true });
  return { seconds, rssKiB };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (kib: number) => (kib / 1024).toFixed(1);

export async function benchDiff(): Promise<void> {
  const sizeMiB = Number(process.env.BENCH_DIFF_MB ?? 1024);
  const runs = Number(process.env.BENCH_DIFF_RUNS ?? 3);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-bench-diff-'));
  try {
    const a = path.join(tmp, 'a.mig');
    const b = path.join(tmp, 'b.mig');
    // Every page a data page: the worst case for page hashing, and a file of about 1 GiB.
    await writeSyntheticStream(a, { ramBytes: sizeMiB * 1024 * 1024, dataEvery: 1 });
    fs.copyFileSync(a, b);
    // A few bytes changed deep inside the second stream: some pages differ.
    const fd = fs.openSync(b, 'r+');
    const size = fs.fstatSync(fd).size;
    for (const at of [0.25, 0.5, 0.75])
      fs.writeSync(fd, Buffer.from([0xaa, 0x55]), 0, 2, Math.floor(size * at));
    fs.closeSync(fd);
    const analyze: number[] = [];
    const diff: number[] = [];
    let analyzeRss = 0;
    let diffRss = 0;
    for (let i = 0; i < runs; i++) {
      const ra = timeCli(['analyze', a, '--format', 'json']);
      const rb = timeCli(['analyze', b, '--format', 'json']);
      analyze.push(ra.seconds + rb.seconds);
      analyzeRss = Math.max(analyzeRss, ra.rssKiB, rb.rssKiB);
      const d = timeCli(['diff', a, b, '--ram', 'pages', '--format', 'json'], [0, 1]);
      diff.push(d.seconds);
      diffRss = Math.max(diffRss, d.rssKiB);
    }
    const ta = median(analyze);
    const td = median(diff);
    console.log(
      `\nvmstate diff, two ${sizeMiB} MiB streams (${(size / 1048576).toFixed(0)} MiB files), median of ${runs}`,
    );
    console.log(
      `  analyze A + analyze B (baseline)  ${(ta * 1000).toFixed(0).padStart(7)} ms  ${mib(analyzeRss).padStart(7)} MiB peak`,
    );
    console.log(
      `  vmstate diff --ram pages          ${(td * 1000).toFixed(0).padStart(7)} ms  ${mib(diffRss).padStart(7)} MiB peak  ${(td / ta).toFixed(2)}x analyzing both (goal <= 2x)`,
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Resolves once the tap child prints that it listens (its stdout is drained after that). */
function waitListening(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('vmstate tap did not listen in 10 s')), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
      if (text.length > 4096) text = text.slice(-100);
    });
  });
}

/** One migration of a fresh source into a fresh destination; through the tap when `tap` is set. */
async function migrateOnce(load: string, tap: boolean): Promise<Run> {
  const vm = {
    machine: 'pc',
    memoryMiB: 1024,
    timeoutMs: 300_000,
    parameters: { 'max-bandwidth': 4_000_000_000 },
    ramLoads: [{ addr: 0x1000000, file: load }],
  };
  const destPort = await freePort();
  const dest = await startVm({ ...vm, incoming: `tcp:127.0.0.1:${destPort}` });
  let source: LiveVm | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  const rssFile = path.join(os.tmpdir(), `vmstate-bench-tap-rss-${process.pid}`);
  fs.rmSync(rssFile, { force: true });
  try {
    source = await startVm(vm);
    let port = destPort;
    let tapDone: Promise<number | null> | undefined;
    if (tap) {
      port = await freePort();
      child = spawn(
        process.execPath,
        [
          ...(process.env.BENCH_TAP_PRELOAD ? ['-r', process.env.BENCH_TAP_PRELOAD] : []),
          '-r',
          PRELOAD,
          CLI,
          'tap',
          '--listen',
          `tcp:127.0.0.1:${port}`,
          '--forward',
          `tcp:127.0.0.1:${destPort}`,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, VMSTATE_BENCH_RSS_FILE: rssFile },
        },
      );
      const c = child;
      const listening = waitListening(c);
      tapDone = new Promise((resolve) => c.once('exit', (code) => resolve(code)));
      await listening;
    }
    const t = process.hrtime.bigint();
    const info = await source.migrate(`tcp:127.0.0.1:${port}`, 300_000);
    const incoming = await dest.incomingResult(300_000);
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    if (info.status !== 'completed' || !incoming.ok)
      throw new Error(`migration ${String(info.status)}: ${incoming.error}`);
    let rssKiB = 0;
    if (tapDone) {
      const code = await tapDone;
      if (code !== 0) throw new Error(`vmstate tap exited ${code}: ${child?.stderr?.read()}`);
      rssKiB = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n')[0]);
    }
    return { seconds, rssKiB };
  } finally {
    child?.kill('SIGKILL');
    await source?.close();
    await dest.close();
    fs.rmSync(rssFile, { force: true });
  }
}

export async function benchTap(): Promise<void> {
  if (!qemuAvailable()) {
    console.log('\nvmstate tap: skipped (no QEMU here)');
    return;
  }
  const runs = Number(process.env.BENCH_TAP_RUNS ?? 3);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-bench-tap-'));
  try {
    const load = path.join(tmp, 'random.bin');
    // Written in pieces: a child's peak RSS starts from its parent's at fork, so the bench stays small.
    const fd = fs.openSync(load, 'w');
    for (let i = 0; i < 16; i++) fs.writeSync(fd, pseudoRandomBytes(16 << 20, i + 1));
    fs.closeSync(fd);
    const direct: number[] = [];
    const tapped: number[] = [];
    let rss = 0;
    for (let i = 0; i < runs; i++) {
      direct.push((await migrateOnce(load, false)).seconds);
      const r = await migrateOnce(load, true);
      tapped.push(r.seconds);
      rss = Math.max(rss, r.rssKiB);
    }
    const td = median(direct);
    const tt = median(tapped);
    console.log(
      `\nvmstate tap, a 1 GiB guest (256 MiB random data) migrated between two QEMU 7.2 over loopback TCP, median of ${runs}`,
    );
    console.log(`  direct (baseline)        ${(td * 1000).toFixed(0).padStart(7)} ms`);
    console.log(
      `  through vmstate tap      ${(tt * 1000).toFixed(0).padStart(7)} ms  ${(tt / td).toFixed(2)}x direct (goal <= 1.15x)  tap peak ${mib(rss)} MiB (goal <= 100 MiB)`,
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  (async () => {
    await benchDiff();
    await benchTap();
  })().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
