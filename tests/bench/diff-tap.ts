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
import { goal } from './measure';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** The tap as users run it: the bundled CLI with its code cache (`vmstate`). */
const TAP_CLI = path.join(ROOT, 'dist', 'src', 'cli', 'launch.js');
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
    const ratios: number[] = [];
    let analyzeRss = 0;
    let diffRss = 0;
    // Alternating rounds, each in the other order than the last (the machine is shared).
    for (let i = 0; i < runs; i++) {
      const both = () => {
        const ra = timeCli(['analyze', a, '--format', 'json']);
        const rb = timeCli(['analyze', b, '--format', 'json']);
        analyzeRss = Math.max(analyzeRss, ra.rssKiB, rb.rssKiB);
        return ra.seconds + rb.seconds;
      };
      const one = () => {
        const d = timeCli(['diff', a, b, '--ram', 'pages', '--format', 'json'], [0, 1]);
        diffRss = Math.max(diffRss, d.rssKiB);
        return d.seconds;
      };
      let ta: number;
      let td: number;
      if (i % 2 === 0) {
        ta = both();
        td = one();
      } else {
        td = one();
        ta = both();
      }
      analyze.push(ta);
      diff.push(td);
      ratios.push(td / ta);
    }
    const ta = median(analyze);
    const td = median(diff);
    const ratio = median(ratios);
    console.log(
      `\nvmstate diff, two ${sizeMiB} MiB streams (${(size / 1048576).toFixed(0)} MiB files), ${runs} alternating rounds, load ${os.loadavg()[0].toFixed(1)}`,
    );
    console.log(
      `  analyze A + analyze B (baseline)  ${(ta * 1000).toFixed(0).padStart(7)} ms median  ${mib(analyzeRss).padStart(7)} MiB peak`,
    );
    console.log(
      `  vmstate diff --ram pages          ${(td * 1000).toFixed(0).padStart(7)} ms median  ${mib(diffRss).padStart(7)} MiB peak`,
    );
    goal(
      `diff of two ${sizeMiB} MiB streams ${ratio.toFixed(2)}x analyzing both, median of the rounds' ratios (${ratios.map((x) => x.toFixed(2)).join(' ')}) (goal <= 2x)`,
      ratio <= 2,
    );
    // The analyzer's budget: 100 MiB whatever the stream's size (issue 11).
    goal(
      `diff peak RSS ${mib(diffRss)} MiB (goal <= 100 MiB, the analyzer's budget)`,
      diffRss <= 100 * 1024,
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Resolves once the tap child prints that it listens; `passed` gets the stream size and the CPU
 * time since the source connected that it reports at the end.
 */
function waitListening(
  child: ReturnType<typeof spawn>,
  passed: (bytes: number, cpuSeconds: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    let listening = false;
    const timer = setTimeout(() => reject(new Error('vmstate tap did not listen in 10 s')), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      if (!listening && text.includes('listening on')) {
        listening = true;
        clearTimeout(timer);
        resolve();
      }
      const line = /passed: (\d+) bytes from the source.*, CPU ([\d.]+) s/.exec(text);
      if (line) passed(Number(line[1]), Number(line[2]));
      if (text.length > 4096) text = text.slice(-200);
    });
  });
}

interface TapRun extends Run {
  /** CPU time of the tap process (user + system): all of it, and since the source connected. */
  cpuSeconds: number;
  migrationCpuSeconds: number;
  streamBytes: number;
}

/** One migration of a fresh source into a fresh destination; through the tap when `tap` is set. */
async function migrateOnce(load: string, tap: boolean): Promise<TapRun> {
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
  const cpuFile = path.join(os.tmpdir(), `vmstate-bench-tap-cpu-${process.pid}`);
  fs.rmSync(rssFile, { force: true });
  fs.rmSync(cpuFile, { force: true });
  let streamBytes = 0;
  let migrationCpuSeconds = 0;
  try {
    source = await startVm(vm);
    let port = destPort;
    let tapDone: Promise<number | null> | undefined;
    if (tap) {
      port = await freePort();
      child = spawn(
        process.execPath,
        [
          // BENCH_TAP_NODE_ARGS: e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the tap.
          ...(process.env.BENCH_TAP_NODE_ARGS ?? '').split(' ').filter(Boolean),
          ...(process.env.BENCH_TAP_PRELOAD ? ['-r', process.env.BENCH_TAP_PRELOAD] : []),
          '-r',
          PRELOAD,
          TAP_CLI,
          'tap',
          '--listen',
          `tcp:127.0.0.1:${port}`,
          '--forward',
          `tcp:127.0.0.1:${destPort}`,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, VMSTATE_BENCH_RSS_FILE: rssFile, VMSTATE_BENCH_CPU_FILE: cpuFile },
        },
      );
      const c = child;
      const listening = waitListening(c, (n, cpu) => {
        streamBytes = n;
        migrationCpuSeconds = cpu;
      });
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
    let cpuSeconds = 0;
    if (tapDone) {
      const code = await tapDone;
      if (code !== 0) throw new Error(`vmstate tap exited ${code}: ${child?.stderr?.read()}`);
      rssKiB = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n')[0]);
      cpuSeconds = Number(fs.readFileSync(cpuFile, 'utf8').trim().split('\n')[0]) / 1e6;
    }
    return { seconds, rssKiB, cpuSeconds, migrationCpuSeconds, streamBytes };
  } finally {
    child?.kill('SIGKILL');
    await source?.close();
    await dest.close();
    fs.rmSync(rssFile, { force: true });
    fs.rmSync(cpuFile, { force: true });
  }
}

export async function benchTap(): Promise<void> {
  if (!qemuAvailable()) {
    console.log('\nvmstate tap: skipped (no QEMU here)');
    return;
  }
  const runs = Number(process.env.BENCH_TAP_RUNS ?? 5);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-bench-tap-'));
  try {
    const load = path.join(tmp, 'random.bin');
    // Written in pieces: a child's peak RSS starts from its parent's at fork, so the bench stays small.
    const fd = fs.openSync(load, 'w');
    for (let i = 0; i < 16; i++) fs.writeSync(fd, pseudoRandomBytes(16 << 20, i + 1));
    fs.closeSync(fd);
    const direct: number[] = [];
    const tapped: number[] = [];
    const ratios: number[] = [];
    const cpuPerGiB: number[] = [];
    const migrationCpuPerGiB: number[] = [];
    let rss = 0;
    // Alternating, and each round in the other order than the last: on a shared machine the
    // load drifts, and a pair measured back to back sees about the same load.
    for (let i = 0; i < runs; i++) {
      let d: TapRun;
      let r: TapRun;
      if (i % 2 === 0) {
        d = await migrateOnce(load, false);
        r = await migrateOnce(load, true);
      } else {
        r = await migrateOnce(load, true);
        d = await migrateOnce(load, false);
      }
      direct.push(d.seconds);
      tapped.push(r.seconds);
      ratios.push(r.seconds / d.seconds);
      cpuPerGiB.push(r.cpuSeconds / (r.streamBytes / 2 ** 30));
      migrationCpuPerGiB.push(r.migrationCpuSeconds / (r.streamBytes / 2 ** 30));
      rss = Math.max(rss, r.rssKiB);
    }
    const td = median(direct);
    const tt = median(tapped);
    const ratio = median(ratios);
    const ms = (xs: number[]) => xs.map((x) => (x * 1000).toFixed(0)).join(' ');
    console.log(
      `\nvmstate tap, a 1 GiB guest (256 MiB random data) migrated between two QEMU 7.2 over loopback TCP, ${runs} alternating rounds, load ${os.loadavg()[0].toFixed(1)}`,
    );
    console.log(
      `  direct (baseline)        ${(td * 1000).toFixed(0).padStart(7)} ms median  (${ms(direct)})`,
    );
    console.log(
      `  through vmstate tap      ${(tt * 1000).toFixed(0).padStart(7)} ms median  (${ms(tapped)})`,
    );
    console.log(
      `  tap CPU time (user + system) per GiB of stream, median: ${median(migrationCpuPerGiB).toFixed(2)} s from the source's connection to the end (${migrationCpuPerGiB.map((x) => x.toFixed(2)).join(' ')}), ${median(cpuPerGiB).toFixed(2)} s with start-up and the summary (${cpuPerGiB.map((x) => x.toFixed(2)).join(' ')})`,
    );
    goal(
      `tap migration ${ratio.toFixed(2)}x direct, median of the rounds' ratios (${ratios.map((x) => x.toFixed(2)).join(' ')}) (goal <= 1.15x)`,
      ratio <= 1.15,
    );
    goal(`tap peak RSS ${mib(rss)} MiB (goal <= 100 MiB)`, rss <= 100 * 1024);
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
