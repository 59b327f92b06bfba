/**
 * The fuzz campaign: the plan's inputs through the stream layer and every view, in a worker
 * thread watched for hangs (no result within the time limit) and memory growth, plus a sample
 * through the real CLI. Failures are saved as reproducers (the input's bytes and descriptor).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import {
  describeInput,
  inputBytes,
  loadSeed,
  rng,
  seedStreamFiles,
  type Descriptor,
} from './inputs';
import { builtCli, CLI_RSS_LIMIT, runCliMeasured } from './cli-run';
import { Plan, type PlanOptions } from './plan';
import {
  emptyCounts,
  isRealCut,
  StepRunner,
  type FailureKind,
  type StepCounts,
  type StepFailure,
} from './steps';
import type { WorkerInput, WorkerMessage } from './worker';

export interface CampaignOptions {
  seconds: number;
  seed: number;
  /** More directories of *.mig seed streams (e.g. captured real-release streams). */
  streamDirs?: string[];
  /** Only this many of the streams, drawn from the seed (the jest slice: loading all 56 takes seconds). */
  sampleStreams?: number;
  /** Which inputs, in what mix, and which streams (a shard of a run split between processes). */
  plan?: PlanOptions;
  /** Stop after this many steps (default: when every truncation offset is done, or at the deadline). */
  steps?: number;
  /** CPU time of one input over which it is a hang (measured twice; default 2 s). */
  hangMs?: number;
  /** Wall-clock time without a result after which the thread is stopped as hung (default 60 s). */
  watchdogMs?: number;
  /**
   * In-process memory growth over the campaign's baseline that counts as a blow-up (garbage of
   * the views over a catalog-decoded stream comes and goes within this; 1.7 GB does not). The
   * CLI sample holds each whole process to 100 MiB.
   */
  rssLimitMiB?: number;
  /** Every this many truncations one is decoded from byte 0 too and must end the same (default 997). */
  crossCheckEvery?: number;
  /** Run in a worker thread (hangs are caught and the run goes on); false runs in this thread. */
  worker?: boolean;
  /** Sample inputs through the built CLI (dist/src/cli/main.js), one every this many seconds. */
  cliEverySeconds?: number;
  reproDir?: string;
  log?: (line: string) => void;
}

export type { FailureKind } from './steps';

export interface Failure {
  kind: FailureKind;
  input: string;
  descriptor: Descriptor;
  message: string;
  saved?: string;
}

export interface CampaignReport {
  seed: number;
  seconds: number;
  /** CPU time of the whole process (every thread), the cost that a loaded machine does not stretch; absent in older reports. */
  cpuSeconds?: number;
  /** The shard, when the run was split between processes ("0/2"). */
  shard?: string;
  inputs: number;
  byOutcome: Record<string, number>;
  byErrorCode: Record<string, number>;
  truncation: { covered: number; total: number; streams: number; crossChecked: number };
  mutations: number;
  /** How mutations were walked (tests/fuzz/mutations.ts), those back in step, those also decoded from byte 0. */
  mutationPaths?: NonNullable<StepCounts['mutationPaths']>;
  hostile: number;
  slowestCpuMs: number;
  slowestWallMs: number;
  timeMs: StepCounts['timeMs'];
  peakRssGrowthMiB: number;
  /** See StepCounts.rssLookedAt. */
  rssLookedAt?: number;
  cli: { runs: number; peakRssMiB: number; baselineRssMiB: number };
  failures: Failure[];
}

export const REPRO_DIR = path.resolve(__dirname, 'reproducers');

/** The budget of one `vmstate analyze` process, whatever the input (issue 12). */

export async function runCampaign(o: CampaignOptions): Promise<CampaignReport> {
  const hangCpuMs = o.hangMs ?? 2000;
  const watchdogMs = o.watchdogMs ?? 60_000;
  const rssLimitMiB = o.rssLimitMiB ?? 256;
  const crossCheckEvery = o.crossCheckEvery ?? 997;
  const log = o.log ?? (() => {});
  const files = sample(seedStreamFiles(o.streamDirs), o.sampleStreams, o.seed);
  const seeds = await Promise.all(files.map(loadSeed));
  const byName = new Map(seeds.map((s) => [s.name, s]));
  const plan = new Plan(seeds, o.seed, o.plan);
  const end = o.steps ?? (plan.stepsForAllCuts || Number.MAX_SAFE_INTEGER);
  const started = Date.now();
  const cpuStart = process.cpuUsage();
  const deadline = started + o.seconds * 1000;
  const report: CampaignReport = {
    ...emptyReport(o.seed),
    shard: o.plan?.shard ? `${o.plan.shard.index}/${o.plan.shard.count}` : undefined,
    // A run of mutations only (--cuts-per-mutation 0) covers no offset: none to count in a merge.
    truncation: {
      covered: 0,
      total: plan.stepsForAllCuts ? plan.truncations : 0,
      streams: plan.stepsForAllCuts ? plan.streams.length : 0,
      crossChecked: 0,
    },
  };
  const fail = (kind: FailureKind, d: Descriptor, message: string) => {
    const f: Failure = { kind, input: describeInput(d), descriptor: d, message };
    try {
      f.saved = saveReproducer(f, inputBytes(d, byName), o.reproDir ?? REPRO_DIR, o.seed);
    } catch (e) {
      f.saved = `(not saved: ${(e as Error).message})`;
    }
    report.failures.push(f);
    log(`FAIL ${kind}: ${f.input}: ${message} (saved ${f.saved})`);
  };
  const onFailure = (f: StepFailure) => fail(f.kind, f.d, f.message);

  if (o.worker === false) {
    const runner = new StepRunner({ plan, byName, hangCpuMs, rssLimitMiB, crossCheckEvery });
    for (let step = 0; step < end && Date.now() < deadline; step++)
      await runner.step(step, onFailure);
    addCounts(report, runner.counts);
  } else {
    let step = 0;
    const skip: number[] = [];
    let lastLog = Date.now();
    while (step < end && Date.now() < deadline) {
      const r = await runWorker(
        {
          files,
          seed: o.seed,
          plan: o.plan ?? {},
          start: step,
          end,
          deadline,
          hangCpuMs,
          rssLimitMiB,
          crossCheckEvery,
          current: new SharedArrayBuffer(4),
          skip,
        },
        watchdogMs,
        onFailure,
        (next, counts) => {
          if (Date.now() - lastLog < 60_000) return;
          lastLog = Date.now();
          log(
            `  ... step ${next}: ${counts.truncations} truncations, ${counts.mutations} mutations, ${counts.hostile} hostile in this thread (${((Date.now() - started) / 1000).toFixed(0)} s)`,
          );
        },
      );
      addCounts(report, r.counts);
      step = r.next;
      if (r.hung !== undefined) {
        const d = plan.at(r.hung);
        fail('hang', d, `no result within ${watchdogMs} ms (the thread was stopped)`);
        report.inputs++;
        report.byOutcome.hang = (report.byOutcome.hang ?? 0) + 1;
        skip.push(r.hung);
      } else if (r.crashed) {
        fail('crash', plan.at(r.crashed.step), `the thread died: ${r.crashed.message}`);
        skip.push(r.crashed.step);
      } else break;
    }
  }

  if (o.cliEverySeconds !== undefined) runCliSample(o, plan, byName, report, fail, log);
  report.seconds = (Date.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  report.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return report;
}

function sample(files: string[], n: number | undefined, seed: number): string[] {
  if (n === undefined || n >= files.length) return files;
  const r = rng(seed ^ 0x5eed);
  return files
    .map((f) => ({ f, k: r() }))
    .sort((a, b) => a.k - b.k)
    .slice(0, n)
    .map((x) => x.f)
    .sort();
}

function addCounts(r: CampaignReport, c: StepCounts): void {
  r.inputs += c.inputs;
  r.truncation.covered += c.truncations;
  r.truncation.crossChecked += c.crossChecked;
  r.mutations += c.mutations;
  for (const [k, v] of Object.entries(c.mutationPaths ?? {}) as [
    keyof NonNullable<StepCounts['mutationPaths']>,
    number,
  ][])
    (r.mutationPaths ??= {})[k] = (r.mutationPaths[k] ?? 0) + v;
  r.hostile += c.hostile;
  for (const [k, v] of Object.entries(c.byOutcome)) r.byOutcome[k] = (r.byOutcome[k] ?? 0) + v;
  for (const [k, v] of Object.entries(c.byErrorCode))
    r.byErrorCode[k] = (r.byErrorCode[k] ?? 0) + v;
  r.slowestCpuMs = Math.max(r.slowestCpuMs, c.slowestCpuMs);
  r.slowestWallMs = Math.max(r.slowestWallMs, c.slowestWallMs);
  for (const k of ['truncate', 'mutate', 'hostile'] as const) r.timeMs[k] += c.timeMs[k];
  r.peakRssGrowthMiB = Math.max(r.peakRssGrowthMiB, c.peakRssGrowthMiB);
  if (c.rssLookedAt) r.rssLookedAt = (r.rssLookedAt ?? 0) + c.rssLookedAt;
}

/**
 * Runs a worker from `input.start`; resolves with the counts it reached and the step to go on
 * from: after a hang (no result for `watchdogMs`: the thread is stopped) the campaign restarts
 * at the step after the last counted one, skipping the hung one.
 */
function runWorker(
  input: WorkerInput,
  watchdogMs: number,
  onFailure: (f: StepFailure) => void,
  onProgress: (next: number, counts: StepCounts) => void,
): Promise<{
  next: number;
  counts: StepCounts;
  hung?: number;
  crashed?: { step: number; message: string };
}> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'worker.js'), { workerData: input });
    const current = new Int32Array(input.current);
    let counts = emptyCounts();
    let next = input.start;
    let finished = false;
    let seen = -1;
    let since = Date.now();
    const timer = setInterval(() => {
      const now = Atomics.load(current, 0);
      if (now !== seen) {
        seen = now;
        since = Date.now();
      } else if (Date.now() - since > watchdogMs) {
        finished = true;
        clearInterval(timer);
        void w.terminate().then(() => resolve({ next, counts, hung: now }));
      }
    }, 250);
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'failure') onFailure(m.f);
      else {
        counts = m.counts;
        next = m.next;
        onProgress(m.next, m.counts);
        if (m.type === 'done') {
          finished = true;
          clearInterval(timer);
          void w.terminate().then(() => resolve({ next, counts }));
        }
      }
    });
    w.on('error', (e) => {
      clearInterval(timer);
      if (finished) return;
      finished = true;
      log(`worker error: ${e.message}`);
      const step = Atomics.load(current, 0);
      if (step >= input.start) resolve({ next, counts, crashed: { step, message: e.message } });
      else reject(e);
    });
    w.on('exit', () => {
      clearInterval(timer);
      if (!finished) resolve({ next, counts });
    });
  });
}

const log = (l: string) => process.stderr.write(`${l}\n`);

/** Inputs through the built CLI as a user runs it: exit code, one line on stderr, peak RSS. */
function runCliSample(
  o: CampaignOptions,
  plan: Plan,
  seeds: Map<string, { eof: number; bytes: Uint8Array }>,
  report: CampaignReport,
  fail: (k: FailureKind, d: Descriptor, m: string) => void,
  log: (l: string) => void,
): void {
  const cli = builtCli();
  if (!cli) {
    log('CLI sample skipped: run from dist/ (npm run fuzz builds it)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-fuzz-cli-'));
  const run = (file: string, format: string) =>
    runCliMeasured(cli, file, format, path.join(dir, 'time.txt'));
  try {
    // What an intact stream costs (the device catalog is loaded for streams without a description).
    for (const s of plan.streams.slice(0, 8)) {
      const f = path.join(dir, `${s.name.replace(/\//g, '_')}.mig`);
      fs.writeFileSync(f, s.bytes);
      report.cli.baselineRssMiB = Math.max(report.cli.baselineRssMiB, run(f, 'json').rss / 1048576);
    }
    const n = Math.max(6, Math.floor(o.seconds / (o.cliEverySeconds ?? 10)));
    const formats = ['json', 'tree', 'qemu'];
    for (let k = 0; k < n; k++) {
      const step = Math.floor((k * 7919) % Math.max(1, report.inputs)) | (k % 2);
      const d = plan.at(step);
      const f = path.join(dir, `in-${k}.mig`);
      fs.writeFileSync(f, inputBytes(d, seeds as never));
      const r = run(f, formats[k % 3]);
      report.cli.runs++;
      report.cli.peakRssMiB = Math.max(report.cli.peakRssMiB, r.rss / 1048576);
      const cut = d.kind === 'truncate' && isRealCut(d, seeds);
      const problem = r.signal
        ? `killed by ${r.signal} (over 30 s?)`
        : ![0, 3].includes(r.code ?? -1)
          ? `exit ${r.code}: ${r.stderr.split('\n')[0]}`
          : /\n\s+at |internal error/.test(r.stderr)
            ? `stack trace or internal error: ${r.stderr.split('\n')[0]}`
            : r.code === 3 && r.stderr.split('\n').length !== 1
              ? 'more than one line on stderr'
              : r.code === 0 && cut
                ? 'exit 0 on a truncated stream'
                : r.rss > CLI_RSS_LIMIT
                  ? `peak RSS ${(r.rss / 1048576).toFixed(0)} MiB`
                  : undefined;
      if (problem) fail('cli', d, problem);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Saves the input and what happened as NAME.mig + NAME.json under the reproducer directory. */
export function saveReproducer(f: Failure, bytes: Uint8Array, dir: string, seed: number): string {
  fs.mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const name = `${f.kind}-${hash}`;
  if (!fs.existsSync(path.join(dir, `${name}.mig`))) {
    fs.writeFileSync(path.join(dir, `${name}.mig`), bytes);
    fs.writeFileSync(
      path.join(dir, `${name}.json`),
      `${JSON.stringify({ kind: f.kind, input: f.input, descriptor: f.descriptor, message: f.message, seed }, null, 2)}\n`,
    );
  }
  return name;
}

/** A one-screen summary. */
export function formatReport(r: CampaignReport): string {
  const lines = [
    `fuzz: seed ${r.seed}${r.shard ? ` (shard ${r.shard})` : ''}, ${r.seconds.toFixed(0)} s, ${r.inputs} inputs`,
    `  truncation offsets: ${r.truncation.covered} of ${r.truncation.total} (${r.truncation.streams} real streams), ${r.truncation.crossChecked} also decoded from byte 0`,
    `  mutations: ${r.mutations}; hostile shapes: ${r.hostile}`,
    ...(r.cpuSeconds === undefined
      ? []
      : [
          `  CPU time: ${r.cpuSeconds.toFixed(0)} s (${per(r.cpuSeconds * 1000, r.inputs)} ms per input)`,
        ]),
    ...(r.mutationPaths
      ? [
          `  mutations walked: ${Object.entries(r.mutationPaths)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        ]
      : []),
    `  time per input (wall clock): truncation ${per(r.timeMs.truncate, r.truncation.covered)} ms, mutation ${per(r.timeMs.mutate, r.mutations)} ms, hostile ${per(r.timeMs.hostile, r.hostile)} ms`,
    `  outcomes: ${Object.entries(r.byOutcome)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  typed errors: ${Object.entries(r.byErrorCode)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  slowest input ${r.slowestCpuMs.toFixed(0)} ms CPU (${r.slowestWallMs.toFixed(0)} ms wall); peak RSS growth ${r.peakRssGrowthMiB.toFixed(0)} MiB${r.rssLookedAt ? ` (${r.rssLookedAt} input(s) over the line looked at: no heap kept, under the budget alone)` : ''}`,
    `  CLI sample: ${r.cli.runs} runs, peak RSS ${r.cli.peakRssMiB.toFixed(0)} MiB (intact streams: ${r.cli.baselineRssMiB.toFixed(0)} MiB)`,
    `  failures: crash ${n(r, 'crash')}, hang ${n(r, 'hang')}, memory ${n(r, 'memory')}, exit-0 truncation ${n(r, 'truncation-exit-0')}, cli ${n(r, 'cli')}, checkpoint mismatch ${n(r, 'checkpoint-mismatch')}`,
  ];
  for (const f of r.failures.slice(0, 20))
    lines.push(`    ${f.kind}: ${f.input}: ${f.message} -> reproducers/${f.saved}`);
  return `${lines.join('\n')}\n`;
}

const n = (r: CampaignReport, k: FailureKind) => r.failures.filter((f) => f.kind === k).length;
const per = (ms: number, count: number) => (count ? (ms / count).toFixed(3) : '-');

/** A report that counts nothing yet: what a run or a merge adds its counts to. */
function emptyReport(seed: number): CampaignReport {
  return {
    seed,
    seconds: 0,
    inputs: 0,
    byOutcome: {},
    byErrorCode: {},
    truncation: { covered: 0, total: 0, streams: 0, crossChecked: 0 },
    mutations: 0,
    hostile: 0,
    slowestCpuMs: 0,
    slowestWallMs: 0,
    timeMs: { truncate: 0, mutate: 0, hostile: 0 },
    peakRssGrowthMiB: 0,
    cli: { runs: 0, peakRssMiB: 0, baselineRssMiB: 0 },
    failures: [],
  };
}

/** One report of shards run in separate processes (`npm run fuzz -- --shard i/n --report F`). */
export function mergeReports(reports: CampaignReport[]): CampaignReport {
  const out: CampaignReport = {
    ...emptyReport(reports[0]!.seed),
    seconds: Math.max(...reports.map((r) => r.seconds)),
  };
  for (const r of reports) {
    addCounts(out, {
      inputs: r.inputs,
      truncations: r.truncation.covered,
      mutations: r.mutations,
      mutationPaths: r.mutationPaths,
      hostile: r.hostile,
      byOutcome: r.byOutcome,
      byErrorCode: r.byErrorCode,
      crossChecked: r.truncation.crossChecked,
      slowestCpuMs: r.slowestCpuMs,
      slowestWallMs: r.slowestWallMs,
      timeMs: r.timeMs,
      peakRssGrowthMiB: r.peakRssGrowthMiB,
      rssLookedAt: r.rssLookedAt,
    });
    if (r.cpuSeconds !== undefined) out.cpuSeconds = (out.cpuSeconds ?? 0) + r.cpuSeconds;
    out.truncation.total += r.truncation.total;
    out.truncation.streams += r.truncation.streams;
    out.cli.runs += r.cli.runs;
    out.cli.peakRssMiB = Math.max(out.cli.peakRssMiB, r.cli.peakRssMiB);
    out.cli.baselineRssMiB = Math.max(out.cli.baselineRssMiB, r.cli.baselineRssMiB);
    out.failures.push(...r.failures);
  }
  return out;
}
