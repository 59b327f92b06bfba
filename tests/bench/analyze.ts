/**
 * `vmstate analyze` as a whole process, side by side with its peers measured in the same run and
 * in alternating rounds (so machine load hits both alike): QEMU's analyze-migration.py, `node -e 0`,
 * `cat FILE > /dev/null`, `cp`. Streams: the device-heavy VMs of issue 11 and a VM with 1 GiB of
 * random RAM, captured from real QEMU by the harness and cached (tests/bench/streams.ts), the
 * bundled 7.2 streams, and a sparse 8 GiB synthetic stream for the memory bound. Each goal line
 * ends in OK or BELOW GOAL.
 *
 * The CLI runs as installed (bin/vmstate: from the start-up snapshot when the build made one).
 * Node processes run under /usr/bin/time, which gives their peak RSS and CPU time (user + system):
 * the CPU figure is printed beside the wall time, as on a loaded machine it moves less.
 *
 * BENCH_ANALYZE_RUNS (default 7) rounds per stream; VMSTATE_BENCH_CLI runs another build of the
 * CLI (an executable, or a .js file run by node; e.g. an older one, for before/after figures);
 * BENCH_TINY=1 only runs the bundled streams once each (checks that the bench works);
 * BENCH_ANALYZE_ONLY=big only runs the 1 GiB stream's block (and its peers); BENCH_ANALYZE_ONLY=decode
 * only the in-process decoding of the headline stream (BENCH_DECODE_PROCESSES processes, default 3).
 *
 * Every command's stdout goes to a descriptor that discards what it gets (discardFd): the null
 * device, or /dev/zero when /dev/null is not one.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeSyntheticStream } from '../../src/stream/synth';
import { analyzeMigrationPy } from '../support/anchors';
import { goal } from './measure';
import { decodeRate, type DecodeRate } from './decode-rate';
import { deviceHeavyStreams, randomRamStream, type BenchStream } from './streams';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = process.env.VMSTATE_BENCH_CLI ?? path.join(ROOT, 'bin', 'vmstate');
/** Runs a command and writes its peak RSS (KiB) and CPU seconds (user, system) to a file. */
const TIME = '/usr/bin/time';
const STREAMS = path.join(ROOT, 'streams', 'qemu-7.2');
const MiB = 1 << 20;

interface Run {
  seconds: number;
  rssKiB: number;
  /** CPU time (user + system) of the process, median of the rounds: what a loaded machine does not distort (0: not measured). */
  cpuSeconds: number;
  /** The fastest and slowest run (seconds). */
  range: [number, number];
}

/** One command to time: how to run it and where its peak RSS comes from. */
interface Job {
  label: string;
  cmd: string;
  args: string[];
  /** 'time': run under /usr/bin/time; 'rusage': the command is the rusage wrapper (python). */
  rss: 'time' | 'rusage' | 'none';
  cwd?: string;
  /** Run before every timed run (not timed), e.g. removing the previous output. */
  before?: () => void;
  /** Exit codes that are a result, not a failure (default 0 only: a damaged input exits 3). */
  exitCodes?: number[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Where the jobs' stdout goes. /dev/null, when it is the null device. It was not on this VM one
 * day: it had become a plain file (by what is not known; `reencode -o /dev/null` run as root did
 * just that until output to a device was written in place), and every write into it took fresh memory, so the
 * `cat FILE > /dev/null` peer cost 1.0 s of CPU for 1 GiB instead of 0.15 s and the goal against
 * it meant nothing. /dev/zero discards writes just the same (Linux gives both one write side).
 */
let discard: { fd: number; note?: string } | undefined;
function discardFd(): { fd: number; note?: string } {
  if (discard) return discard;
  const isNull = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isCharacterDevice();
  if (isNull('/dev/null')) discard = { fd: fs.openSync('/dev/null', 'w') };
  else if (isNull('/dev/zero'))
    discard = {
      fd: fs.openSync('/dev/zero', 'w'),
      note: '/dev/null is not a device on this machine (a plain file: writes fill memory): output goes to /dev/zero',
    };
  else throw new Error('neither /dev/null nor /dev/zero is a device: no place to discard output');
  return discard;
}

function runOnce(job: Job): Omit<Run, 'range'> | string {
  job.before?.();
  const rssFile = path.join(os.tmpdir(), `vmstate-bench-rss-${process.pid}`);
  fs.rmSync(rssFile, { force: true });
  const timed = job.rss === 'time' && fs.existsSync(TIME);
  const [cmd, args] = timed
    ? [TIME, ['-f', '%M %U %S', '-o', rssFile, job.cmd, ...job.args]]
    : [job.cmd, job.args];
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', discardFd().fd, 'pipe'],
    maxBuffer: 1 << 20,
    cwd: job.cwd,
    env: job.env,
  });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (!(job.exitCodes ?? [0]).includes(r.status ?? -1)) {
    const lines = (r.stderr?.toString() ?? '')
      .split('\n')
      .filter((l) => /Exception|Error|error/.test(l));
    return lines[lines.length - 1]?.trim() || `exit ${r.status}`;
  }
  let rssKiB = 0;
  let cpuSeconds = 0;
  if (timed && fs.existsSync(rssFile)) {
    const [kib, user, sys] = fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ');
    rssKiB = Number(kib);
    cpuSeconds = Number(user) + Number(sys);
  }
  if (job.rss === 'rusage') {
    // The wrapper's last line: the child's peak RSS (KiB) and CPU seconds.
    const [kib, cpu] = r.stderr.toString().trim().split('\n').pop()!.split(' ').map(Number);
    rssKiB = kib;
    cpuSeconds = cpu;
  }
  fs.rmSync(rssFile, { force: true });
  return { seconds, rssKiB, cpuSeconds };
}

/** Runs the jobs in `rounds` alternating rounds; the median time and largest RSS of each (or why it failed). */
function alternate(jobs: Job[], rounds: number): Map<string, Run | string> {
  const times = new Map<string, number[]>();
  const cpus = new Map<string, number[]>();
  const rss = new Map<string, number>();
  const failed = new Map<string, string>();
  for (let i = 0; i < rounds; i++) {
    for (const job of jobs) {
      if (failed.has(job.label)) continue;
      const r = runOnce(job);
      if (typeof r === 'string') {
        failed.set(job.label, r);
        continue;
      }
      (times.get(job.label) ?? times.set(job.label, []).get(job.label)!).push(r.seconds);
      (cpus.get(job.label) ?? cpus.set(job.label, []).get(job.label)!).push(r.cpuSeconds);
      rss.set(job.label, Math.max(rss.get(job.label) ?? 0, r.rssKiB));
    }
  }
  const out = new Map<string, Run | string>();
  for (const job of jobs) {
    const f = failed.get(job.label);
    if (f) out.set(job.label, f);
    else {
      const t = times.get(job.label)!.sort((a, b) => a - b);
      const c = cpus.get(job.label)!.sort((a, b) => a - b);
      out.set(job.label, {
        seconds: t[Math.floor(t.length / 2)],
        rssKiB: rss.get(job.label)!,
        cpuSeconds: c[Math.floor(c.length / 2)],
        range: [t[0], t[t.length - 1]],
      });
    }
  }
  return out;
}

/**
 * A wrapper (python) that runs a command and prints the child's peak RSS (KiB) and CPU seconds on
 * stderr. The child's stdout is the wrapper's (discardFd), not subprocess.DEVNULL: that opens
 * /dev/null by name.
 */
const RUSAGE_WRAPPER =
  'import resource,subprocess,sys\n' +
  'r = subprocess.run(sys.argv[1:], stderr=subprocess.PIPE)\n' +
  'sys.stderr.write(r.stderr.decode(errors="replace"))\n' +
  'u = resource.getrusage(resource.RUSAGE_CHILDREN)\n' +
  'print(u.ru_maxrss, u.ru_utime + u.ru_stime, file=sys.stderr)\n' +
  'sys.exit(r.returncode)\n';

/** Runs QEMU's script under the rusage wrapper. */
function pythonWrapped(script: string, file: string, extra: string[] = []): string[] {
  const python = process.env.PYTHON ?? 'python3';
  return ['-c', RUSAGE_WRAPPER, python, script, '-f', file, ...extra];
}

/** Any other command under the rusage wrapper (for its CPU time). */
function rusageWrapped(cmd: string, args: string[]): string[] {
  return ['-c', RUSAGE_WRAPPER, cmd, ...args];
}

function node(label: string, args: string[], before?: () => void): Job {
  return { label, cmd: process.execPath, args, rss: 'time', before };
}

/**
 * The start-up peer: `node -e 0` in the environment bin/vmstate gives node, which drops
 * NODE_EXTRA_CA_CERTS (node parses that file at every start). Against node with the variable
 * set, vmstate would gain that parse for free.
 */
function bareNode(): Job {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return { ...node('node -e 0', ['-e', '0']), env };
}

/** The CLI as installed (or VMSTATE_BENCH_CLI: an executable, or a .js file run by node). */
function cli(label: string, args: string[], before?: () => void): Job {
  if (CLI.endsWith('.js')) return node(label, [CLI, ...args], before);
  return { label, cmd: CLI, args, rss: 'time', before };
}

/** How the CLI starts here (snapshot, bundle or sources), as it says with VMSTATE_TRACE_START. */
function startMode(): string {
  const [cmd, args] = CLI.endsWith('.js') ? [process.execPath, [CLI]] : [CLI, []];
  const r = spawnSync(cmd, [...args, 'analyze', '--help'], {
    env: { ...process.env, VMSTATE_TRACE_START: '1' },
    encoding: 'utf8',
  });
  return /vmstate start: (\S+)/.exec(r.stderr ?? '')?.[1] ?? 'unknown';
}

function cell(r: Run | string | undefined, bytes: number): string {
  if (r === undefined) return '  (not run)';
  if (typeof r === 'string') return `  fails: ${r.slice(0, 90)}`;
  const mbps = bytes ? `${(bytes / r.seconds / 1e6).toFixed(1).padStart(8)} MB/s` : ''.padStart(13);
  const rss = r.rssKiB ? `${(r.rssKiB / 1024).toFixed(1).padStart(7)} MiB peak` : '';
  const cpu = r.cpuSeconds
    ? `${(r.cpuSeconds * 1000).toFixed(0).padStart(6)} ms CPU`
    : ''.padStart(13);
  const range =
    r.range[1] > 1.5 * r.range[0]
      ? `  (${(r.range[0] * 1000).toFixed(0)}-${(r.range[1] * 1000).toFixed(0)} ms)`
      : '';
  return `${(r.seconds * 1000).toFixed(0).padStart(7)} ms  ${cpu}  ${mbps}  ${rss}${range}`;
}

function ran(r: Run | string | undefined): Run | undefined {
  return typeof r === 'object' ? r : undefined;
}

function printRows(results: Map<string, Run | string>, bytes: number): void {
  for (const [label, r] of results) console.log(`  ${label.padEnd(40)}${cell(r, bytes)}`);
}

/**
 * A ratio goal of ours against the peer, in wall-clock time (`seconds`) or CPU time (user +
 * system: what a loaded machine does not distort): 'faster' is peer/ours >= bound, 'within' is
 * ours/peer <= bound. Missing runs are reported as such.
 */
function ratioGoal(
  clock: 'seconds' | 'cpuSeconds',
  kind: 'faster' | 'within',
  what: string,
  ours: Run | string | undefined,
  peer: Run | string | undefined,
  bound: number,
): void {
  const o = ran(ours);
  const p = ran(peer);
  const cpu = clock === 'cpuSeconds';
  if (!o || !p || (cpu && (!o.cpuSeconds || !p.cpuSeconds)))
    return console.log(
      `  goal ${what}${cpu ? ' (CPU)' : ''}: not measured${cpu ? '' : ' (a run failed)'}`,
    );
  const ratio = kind === 'faster' ? p[clock] / o[clock] : o[clock] / p[clock];
  goal(
    `${what}${cpu ? ' (CPU time)' : ''}: ${ratio.toFixed(2)}x (goal ${kind === 'faster' ? '>=' : '<='} ${bound}x)`,
    kind === 'faster' ? ratio >= bound : ratio <= bound,
  );
}

const fasterGoal = ratioGoal.bind(undefined, 'seconds', 'faster');
const fasterCpuGoal = ratioGoal.bind(undefined, 'cpuSeconds', 'faster');
const withinGoal = ratioGoal.bind(undefined, 'seconds', 'within');
const withinCpuGoal = ratioGoal.bind(undefined, 'cpuSeconds', 'within');

function rssGoal(what: string, r: Run | string | undefined, mib: number): void {
  const o = ran(r);
  if (!o) return;
  goal(
    `${what} peak RSS ${(o.rssKiB / 1024).toFixed(1)} MiB (goal <= ${mib} MiB)`,
    o.rssKiB <= mib * 1024,
  );
}

function loadNote(): string {
  const [a, b, c] = os.loadavg();
  return `load average ${a.toFixed(2)} ${b.toFixed(2)} ${c.toFixed(2)} on ${os.cpus().length} cores`;
}

/**
 * Device-section decoding in process (tests/bench/decode-rate.ts): decoding and printing as
 * `vmstate analyze` does, per format, and decoding into the library's full tree; each the median
 * MB/s of section bytes (CPU time) and the spread between its processes.
 */
export function inProcessDecoding(file: string): {
  bytes: number;
  tree: DecodeRate;
  printed: Array<[string, DecodeRate]>;
} {
  const printed = (['json', 'tree', 'qemu'] as const).map(
    (f) => [f, decodeRate(file, f)] as [string, DecodeRate],
  );
  const tree = decodeRate(file, 'full');
  return { bytes: tree.bytes, tree, printed };
}

function rateText(r: DecodeRate): string {
  return `${r.median.toFixed(1)} (${r.low.toFixed(0)}-${r.high.toFixed(0)})`;
}

/** The in-process goals of issue 11 on one stream. */
function decodingGoals(file: string): void {
  const d = inProcessDecoding(file);
  const slowest = Math.min(...d.printed.map(([, r]) => r.median));
  console.log(
    `  in process: median MB/s of ${(d.bytes / 1e6).toFixed(2)} MB section bytes (CPU time) over 9 batches x ${process.env.BENCH_DECODE_PROCESSES ?? 3} processes, (slowest-fastest process)`,
  );
  goal(
    `device-section decoding in process, decoded and printed: ${d.printed.map(([f, r]) => `${f} ${rateText(r)}`).join(', ')} MB/s (goal >= 50 MB/s for each)`,
    slowest >= 50,
  );
  goal(
    `device-section decoding in process, into the full tree (every entry built): ${rateText(d.tree)} MB/s (goal >= 50 MB/s)`,
    d.tree.median >= 50,
  );
}

/**
 * The start-up goal (whole process <= `node -e 0` + 30 ms) compares two runs of 25-70 ms whose
 * medians over the table's 7 rounds move by 10-15 ms from one bench run to the next (a round
 * there also holds the json, tree and script runs, 0.1-0.7 s): measured on its own, `node -e 0`
 * and `--format qemu` alternating for `rounds` rounds (BENCH_STARTUP_RUNS, default 21), so both
 * medians come from the same minutes and from three times the samples. The table's 7-round
 * figures are printed beside it.
 */
function startUpGoal(file: string, table: Map<string, Run | string>, rounds: number): void {
  const qemu = 'vmstate analyze --format qemu';
  const pair = alternate([bareNode(), cli(qemu, ['analyze', file, '--format', 'qemu'])], rounds);
  const n0 = ran(pair.get('node -e 0'));
  const q = ran(pair.get(qemu));
  if (!n0 || !q)
    return console.log('  goal --format qemu vs node -e 0 + 30 ms: not measured (a run failed)');
  const ms = (r: Run | undefined) => (r ? (r.seconds * 1000).toFixed(0) : '?');
  goal(
    `--format qemu ${ms(q)} ms vs node -e 0 + 30 ms = ${(n0.seconds * 1000 + 30).toFixed(0)} ms, medians of ${rounds} alternating rounds of the two (the table's: ${ms(ran(table.get(qemu)))} vs ${ms(ran(table.get('node -e 0')))} + 30)`,
    q.seconds <= n0.seconds + 0.03,
  );
}

export async function benchAnalyze(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const tiny = process.env.BENCH_TINY === '1';
  const onlyBig = process.env.BENCH_ANALYZE_ONLY === 'big';
  const onlySmall = process.env.BENCH_ANALYZE_ONLY === 'small';
  if (process.env.BENCH_ANALYZE_ONLY === 'decode') {
    const headline = (await deviceHeavyStreams()).find((s) => s.headline);
    if (!headline) throw new Error('the headline device-heavy stream could not be captured');
    console.log(`\n${headline.name}`);
    return decodingGoals(headline.file);
  }
  const script = analyzeMigrationPy();
  const haveScript = fs.existsSync(script);
  const python = process.env.PYTHON ?? 'python3';
  const rounds = tiny ? 1 : Number(process.env.BENCH_ANALYZE_RUNS ?? 7);
  const pairRounds = Number(process.env.BENCH_STARTUP_RUNS ?? 21);
  console.log(
    `\nvmstate analyze, whole process: median of ${rounds} alternating round(s), peak RSS the largest seen; ${loadNote()}`,
  );
  console.log(`  CLI: ${CLI} (starts from: ${startMode()})`);
  if (!fs.existsSync(TIME)) console.log(`  (${TIME} not found: no peak RSS or CPU figures)`);
  if (!haveScript)
    console.log(`  (analyze-migration.py not found at ${script}: no comparison with it)`);
  const { note } = discardFd();
  if (note) console.log(`  (${note})`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-bench-'));
  try {
    // Start-up: node -e 0 against vmstate --version.
    const startup = alternate(
      onlyBig ? [] : [bareNode(), cli('vmstate --version', ['--version'])],
      tiny ? 1 : Math.max(rounds, 11),
    );
    if (!onlyBig) console.log('\nstart-up');
    printRows(startup, 0);
    if (!onlyBig)
      withinGoal(
        'vmstate --version vs node -e 0',
        startup.get('vmstate --version'),
        startup.get('node -e 0'),
        1.2,
      );
    const node0 = ran(startup.get('node -e 0'));

    const streams: BenchStream[] = onlyBig
      ? []
      : fs
          .readdirSync(STREAMS)
          .filter((f) => f.endsWith('.mig'))
          .map((f) => ({ name: `bundled ${f}`, file: path.join(STREAMS, f) }));
    if (!tiny && !onlyBig) streams.unshift(...(await deviceHeavyStreams()));

    for (const s of streams) {
      const bytes = fs.statSync(s.file).size;
      const jobs: Job[] = [
        bareNode(),
        cli('vmstate analyze --format qemu', ['analyze', s.file, '--format', 'qemu']),
        cli('vmstate analyze --format json', ['analyze', s.file, '--format', 'json']),
        cli('vmstate analyze --format tree', ['analyze', s.file, '--format', 'tree']),
      ];
      if (haveScript)
        jobs.push({
          label: 'analyze-migration.py',
          cmd: python,
          args: pythonWrapped(script, s.file),
          rss: 'rusage',
        });
      const r = alternate(jobs, rounds);
      console.log(`\n${s.name} (${(bytes / MiB).toFixed(2)} MiB)`);
      printRows(r, bytes);
      const py = r.get('analyze-migration.py');
      if (s.headline)
        fasterGoal('--format qemu vs the script', r.get('vmstate analyze --format qemu'), py, 4);
      for (const f of ['json', 'tree']) {
        if (haveScript && typeof py === 'object')
          fasterGoal(`--format ${f} vs the script`, r.get(`vmstate analyze --format ${f}`), py, 3);
      }
      const n0 = ran(r.get('node -e 0'));
      if (bytes <= MiB) startUpGoal(s.file, r, tiny ? 1 : pairRounds);
      if (bytes <= MiB && n0?.cpuSeconds)
        for (const f of ['qemu', 'json', 'tree']) {
          const o = ran(r.get(`vmstate analyze --format ${f}`));
          if (o?.cpuSeconds)
            console.log(
              `  (CPU time: --format ${f} ${(o.cpuSeconds * 1000).toFixed(0)} ms vs node -e 0 + 30 ms = ${(n0.cpuSeconds * 1000 + 30).toFixed(0)} ms)`,
            );
        }
      for (const f of ['qemu', 'json', 'tree'])
        rssGoal(`--format ${f}`, r.get(`vmstate analyze --format ${f}`), 64);
      if (s.headline) decodingGoals(s.file);
    }
    if (tiny || onlySmall) return;

    // 1 GiB of random RAM.
    const big = await randomRamStream(Number(process.env.BENCH_ANALYZE_MB ?? 1024));
    if (big) {
      const bytes = fs.statSync(big.file).size;
      const copy = path.join(tmp, 'copy.mig');
      const reencoded = path.join(tmp, 'reencoded.mig');
      const extractDir = path.join(tmp, 'extract');
      const pyDir = fs.mkdtempSync(path.join(tmp, 'py-'));
      const bigRounds = Math.min(rounds, 5);
      const jobs: Job[] = [
        {
          label: 'cat FILE > /dev/null',
          cmd: python,
          args: rusageWrapped('cat', [big.file]),
          rss: 'rusage',
        },
        {
          // Under /usr/bin/time for its CPU time, the peer of reencode's on a loaded machine.
          label: 'cp FILE',
          cmd: 'cp',
          args: [big.file, copy],
          rss: 'time',
          before: () => fs.rmSync(copy, { force: true }),
        },
        {
          // The peer of `reencode --fsync`, which waits for the disk before the rename.
          label: 'cp FILE && sync FILE',
          cmd: 'sh',
          args: ['-c', 'cp "$0" "$1" && sync "$1"', big.file, copy],
          rss: 'none',
          before: () => fs.rmSync(copy, { force: true }),
        },
        cli('vmstate analyze --format qemu', ['analyze', big.file, '--format', 'qemu']),
        cli('vmstate reencode', ['reencode', big.file, '-o', reencoded], () =>
          fs.rmSync(reencoded, { force: true }),
        ),
        cli('vmstate reencode --fsync', ['reencode', big.file, '-o', reencoded, '--fsync'], () =>
          fs.rmSync(reencoded, { force: true }),
        ),
        // Run into the same directory again and again: it may already exist.
        cli('vmstate analyze --extract DIR', ['analyze', big.file, '--extract', extractDir]),
      ];
      if (haveScript) {
        jobs.push({
          label: 'analyze-migration.py',
          cmd: python,
          args: pythonWrapped(script, big.file),
          rss: 'rusage',
        });
        jobs.push({
          label: 'analyze-migration.py -x',
          cmd: python,
          args: pythonWrapped(script, big.file, ['-x']),
          rss: 'rusage',
          cwd: pyDir,
        });
      }
      // Each of these writes or reads a GiB: the dirty pages one run leaves were written back
      // during the next (a cp after an extract took 1-2 s instead of 0.3), so every run starts
      // after a sync, untimed, whatever it is.
      for (const j of jobs) {
        const before = j.before;
        j.before = () => {
          before?.();
          spawnSync('sync');
        };
      }
      // The runs that write a new GiB (cp and reencode) take 0.3 s or 1-3 s on this VM, by chance
      // (the slow ones all system time: new page-cache memory the host has to back), so they
      // alternate among themselves for more rounds, their medians being the figures compared.
      const writers = new Set([
        'cp FILE',
        'cp FILE && sync FILE',
        'vmstate reencode',
        'vmstate reencode --fsync',
      ]);
      const writeRounds = bigRounds >= 5 ? 11 : bigRounds;
      const others = alternate(
        jobs.filter((j) => !writers.has(j.label)),
        bigRounds,
      );
      const written = alternate(
        jobs.filter((j) => writers.has(j.label)),
        writeRounds,
      );
      const r = new Map(
        jobs.map((j) => [j.label, others.get(j.label) ?? written.get(j.label)!] as const),
      );
      console.log(
        `\n${big.name} (${(bytes / MiB).toFixed(0)} MiB), median of ${bigRounds} rounds (cp and reencode: ${writeRounds}), each run after a sync; (fastest-slowest) where they differ by half`,
      );
      printRows(r, bytes);
      fasterGoal(
        '--format qemu vs the script',
        r.get('vmstate analyze --format qemu'),
        r.get('analyze-migration.py'),
        4,
      );
      fasterCpuGoal(
        '--format qemu vs the script',
        r.get('vmstate analyze --format qemu'),
        r.get('analyze-migration.py'),
        4,
      );
      withinGoal(
        '--format qemu vs cat',
        r.get('vmstate analyze --format qemu'),
        r.get('cat FILE > /dev/null'),
        2,
      );
      withinCpuGoal(
        '--format qemu vs cat',
        r.get('vmstate analyze --format qemu'),
        r.get('cat FILE > /dev/null'),
        2,
      );
      fasterGoal(
        '--extract vs the script -x',
        r.get('vmstate analyze --extract DIR'),
        r.get('analyze-migration.py -x'),
        4,
      );
      fasterCpuGoal(
        '--extract vs the script -x',
        r.get('vmstate analyze --extract DIR'),
        r.get('analyze-migration.py -x'),
        4,
      );
      withinGoal('reencode vs cp', r.get('vmstate reencode'), r.get('cp FILE'), 2);
      withinCpuGoal('reencode vs cp', r.get('vmstate reencode'), r.get('cp FILE'), 2);
      withinGoal(
        'reencode --fsync vs cp && sync',
        r.get('vmstate reencode --fsync'),
        r.get('cp FILE && sync FILE'),
        2,
      );
      for (const l of [
        'vmstate analyze --format qemu',
        'vmstate reencode',
        'vmstate reencode --fsync',
        'vmstate analyze --extract DIR',
      ])
        rssGoal(l, r.get(l), 100);
      for (const f of [copy, reencoded]) fs.rmSync(f, { force: true });
      fs.rmSync(extractDir, { recursive: true, force: true });
      fs.rmSync(pyDir, { recursive: true, force: true });
    }
    if (onlyBig) return;

    // 8 GiB of guest RAM, sparse (one data page in 64): the memory bound at the largest size.
    const sparse = path.join(tmp, 'synthetic-8GiB.mig');
    await writeSyntheticStream(sparse, { ramBytes: 8 * 1024 * MiB, dataEvery: 64 });
    const sb = fs.statSync(sparse).size;
    const reencoded = path.join(tmp, 'sparse-reencoded.mig');
    const r = alternate(
      [
        cli('vmstate analyze --format qemu', ['analyze', sparse, '--format', 'qemu']),
        cli('vmstate reencode', ['reencode', sparse, '-o', reencoded], () =>
          fs.rmSync(reencoded, { force: true }),
        ),
        cli('vmstate analyze --extract DIR', [
          'analyze',
          sparse,
          '--extract',
          path.join(tmp, 'sparse-extract'),
        ]),
      ],
      1,
    );
    console.log(
      `\nsynthetic stream, 8 GiB guest RAM, one data page in 64 (${(sb / MiB).toFixed(0)} MiB)`,
    );
    printRows(r, sb);
    for (const l of [
      'vmstate analyze --format qemu',
      'vmstate reencode',
      'vmstate analyze --extract DIR',
    ])
      rssGoal(l, r.get(l), 100);

    // The fuzz campaign's CLI reproducers (issue 12): each format within the CLI's 100 MiB.
    const reproducers = path.join(ROOT, 'tests', 'fuzz', 'reproducers');
    for (const f of fs.readdirSync(reproducers).filter((n) => /^cli-.*\.mig$/.test(n))) {
      const file = path.join(reproducers, f);
      const what = JSON.parse(fs.readFileSync(file.replace(/\.mig$/, '.json'), 'utf8')) as {
        input: string;
      };
      const rr = alternate(
        ['qemu', 'json', 'tree'].map((fmt) => ({
          ...cli(`vmstate analyze --format ${fmt}`, ['analyze', file, '--format', fmt]),
          exitCodes: [0, 3],
        })),
        1,
      );
      console.log(`\nreproducer ${f} (${what.input})`);
      printRows(rr, fs.statSync(file).size);
      for (const [l, res] of rr) rssGoal(l, res, 100);
    }
    void node0;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchAnalyze().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
