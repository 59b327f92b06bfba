/**
 * The fuzz campaign: the plan's inputs through the stream layer and every view, in a worker
 * thread watched for hangs (no result within the time limit) and memory growth, plus a sample
 * through the real CLI. Failures are saved as reproducers (the input's bytes and descriptor).
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { describeInput, inputBytes, loadSeed, seedStreamFiles, type Descriptor } from './inputs';
import { Plan } from './plan';
import { runOne } from './run-one';
import type { WorkerInput, WorkerMessage } from './worker';

export interface CampaignOptions {
  seconds: number;
  seed: number;
  /** More directories of *.mig seed streams (e.g. captured real-release streams). */
  streamDirs?: string[];
  /** Per-input limit; over it is a hang. */
  hangMs?: number;
  /**
   * In-process memory growth over the campaign's baseline that counts as a blow-up (garbage of
   * the views over a catalog-decoded stream comes and goes within this; 1.7 GB does not). The
   * CLI sample holds each whole process to 100 MiB.
   */
  rssLimitMiB?: number;
  /** Run in a worker thread (hangs are caught and the run goes on); false runs in this thread. */
  worker?: boolean;
  /** Sample inputs through the built CLI (dist/src/cli/main.js), one every this many seconds. */
  cliEverySeconds?: number;
  reproDir?: string;
  log?: (line: string) => void;
}

export type FailureKind = 'crash' | 'hang' | 'memory' | 'truncation-exit-0' | 'cli';

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
  inputs: number;
  byOutcome: Record<string, number>;
  byErrorCode: Record<string, number>;
  truncation: { covered: number; total: number; streams: number };
  mutations: number;
  hostile: number;
  slowestMs: number;
  peakRssGrowthMiB: number;
  cli: { runs: number; peakRssMiB: number; baselineRssMiB: number };
  failures: Failure[];
}

export const REPRO_DIR = path.resolve(__dirname, 'reproducers');

/** The budget of one `vmstate analyze` process, whatever the input (issue 12). */
const CLI_RSS_LIMIT = 100 * 1048576;

export async function runCampaign(o: CampaignOptions): Promise<CampaignReport> {
  const hangMs = o.hangMs ?? 2000;
  const rssLimit = (o.rssLimitMiB ?? 256) * 1048576;
  const log = o.log ?? (() => {});
  const files = seedStreamFiles(o.streamDirs);
  const seeds = await Promise.all(files.map(loadSeed));
  const byName = new Map(seeds.map((s) => [s.name, s]));
  const plan = new Plan(seeds, o.seed);
  const started = Date.now();
  const deadline = started + o.seconds * 1000;
  const report: CampaignReport = {
    seed: o.seed,
    seconds: 0,
    inputs: 0,
    byOutcome: {},
    byErrorCode: {},
    truncation: { covered: 0, total: plan.truncations, streams: seeds.length },
    mutations: 0,
    hostile: 0,
    slowestMs: 0,
    peakRssGrowthMiB: 0,
    cli: { runs: 0, peakRssMiB: 0, baselineRssMiB: 0 },
    failures: [],
  };
  let baselineRss: number | undefined;
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
  const count = (m: Extract<WorkerMessage, { type: 'end' }>) => {
    report.inputs++;
    if (m.d.kind === 'truncate') report.truncation.covered++;
    else if (m.d.kind === 'mutate') report.mutations++;
    else report.hostile++;
    const key = m.outcome.kind;
    report.byOutcome[key] = (report.byOutcome[key] ?? 0) + 1;
    if (m.outcome.kind === 'typed')
      report.byErrorCode[m.outcome.code] = (report.byErrorCode[m.outcome.code] ?? 0) + 1;
    report.slowestMs = Math.max(report.slowestMs, m.ms);
    if (report.inputs === 50) baselineRss = m.rss;
    if (baselineRss !== undefined) {
      const growth = m.rss - baselineRss;
      report.peakRssGrowthMiB = Math.max(report.peakRssGrowthMiB, growth / 1048576);
      if (growth > rssLimit) {
        fail(
          'memory',
          m.d,
          `RSS ${(m.rss / 1048576).toFixed(0)} MiB, ${(growth / 1048576).toFixed(0)} MiB over the baseline`,
        );
        baselineRss = m.rss; // report the next blow-up, not every input after this one
      }
    }
    if (m.outcome.kind === 'crash') fail('crash', m.d, m.outcome.message);
    else if (m.ms > hangMs) fail('hang', m.d, `took ${m.ms.toFixed(0)} ms`);
    else if (m.outcome.kind === 'ok' && m.d.kind === 'truncate' && isRealCut(m.d, byName))
      fail('truncation-exit-0', m.d, 'a truncated stream decoded without an error');
  };

  if (o.worker === false) {
    for (let step = 0; Date.now() < deadline; step++) {
      const d = plan.at(step);
      const bytes = inputBytes(d, byName);
      const t = process.hrtime.bigint();
      const outcome = await runOne(bytes, d.kind !== 'truncate' || step % 32 === 0);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      count({
        type: 'end',
        step,
        d,
        outcome,
        ms,
        rss: process.memoryUsage().rss,
        size: bytes.length,
      });
    }
  } else {
    let step = 0;
    while (Date.now() < deadline) {
      const next = await runWorker(files, o.seed, step, deadline, hangMs, count, log);
      if (next.hung)
        fail('hang', next.hung, `no result within ${hangMs} ms (the thread was stopped)`);
      if (next.crashed) fail('crash', next.crashed.d, `the thread died: ${next.crashed.message}`);
      step = next.step;
      if (!next.hung && !next.crashed) break;
    }
  }

  if (o.cliEverySeconds !== undefined) runCliSample(o, plan, byName, report, fail, log);
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

/** A cut before the last byte, other than right after EOF (a whole stream without a description). */
function isRealCut(
  d: Extract<Descriptor, { kind: 'truncate' }>,
  seeds: Map<string, { eof: number; bytes: Uint8Array }>,
) {
  const s = seeds.get(d.stream)!;
  return d.at < s.bytes.length && d.at !== s.eof + 1;
}

function runWorker(
  files: string[],
  seed: number,
  start: number,
  deadline: number,
  hangMs: number,
  onEnd: (m: Extract<WorkerMessage, { type: 'end' }>) => void,
  log: (l: string) => void,
): Promise<{ step: number; hung?: Descriptor; crashed?: { d: Descriptor; message: string } }> {
  return new Promise((resolve, reject) => {
    const data: WorkerInput = { files, seed, start, deadline };
    const w = new Worker(path.join(__dirname, 'worker.js'), { workerData: data });
    let current: { step: number; d: Descriptor; since: number } | undefined;
    let step = start;
    let finished = false;
    const timer = setInterval(() => {
      if (current && Date.now() - current.since > hangMs * 2) {
        finished = true;
        clearInterval(timer);
        const hung = current;
        void w.terminate().then(() => resolve({ step: hung.step + 1, hung: hung.d }));
      }
    }, 100);
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'begin') current = { step: m.step, d: m.d, since: Date.now() };
      else if (m.type === 'end') {
        current = undefined;
        step = m.step + 1;
        onEnd(m);
      } else if (m.type === 'done') {
        finished = true;
        clearInterval(timer);
        void w.terminate().then(() => resolve({ step: m.step }));
      }
    });
    w.on('error', (e) => {
      clearInterval(timer);
      if (finished) return;
      finished = true;
      log(`worker error: ${e.message}`);
      if (current)
        resolve({ step: current.step + 1, crashed: { d: current.d, message: e.message } });
      else reject(e);
    });
    w.on('exit', () => {
      clearInterval(timer);
      if (!finished) resolve({ step });
    });
  });
}

/** Inputs through the built CLI as a user runs it: exit code, one line on stderr, peak RSS. */
function runCliSample(
  o: CampaignOptions,
  plan: Plan,
  seeds: Map<string, { eof: number; bytes: Uint8Array }>,
  report: CampaignReport,
  fail: (k: FailureKind, d: Descriptor, m: string) => void,
  log: (l: string) => void,
): void {
  // The library's build (dist/), beside the campaign's (dist-bench/).
  const cli = path.resolve(__dirname, '..', '..', '..', 'dist', 'src', 'cli', 'main.js');
  if (!fs.existsSync(cli)) {
    log('CLI sample skipped: run from dist/ (npm run fuzz builds it)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-fuzz-cli-'));
  const run = (file: string, format: string) => {
    const timeFile = path.join(dir, 'time.txt');
    const r = spawnSync(
      '/usr/bin/time',
      ['-o', timeFile, '-f', '%M', process.execPath, cli, 'analyze', file, '--format', format],
      { encoding: 'utf8', timeout: 30_000, maxBuffer: 1 << 30 },
    );
    const rss = Number(fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()) * 1024;
    return { code: r.status, signal: r.signal, stderr: r.stderr.trimEnd(), rss };
  };
  try {
    // What an intact stream costs (the device catalog is loaded for streams without a description).
    for (const [name, s] of seeds) {
      const f = path.join(dir, `${name}.mig`);
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
    `fuzz: seed ${r.seed}, ${r.seconds.toFixed(0)} s, ${r.inputs} inputs`,
    `  truncation offsets: ${r.truncation.covered} of ${r.truncation.total} (${r.truncation.streams} real streams)`,
    `  mutations: ${r.mutations}; hostile shapes: ${r.hostile}`,
    `  outcomes: ${Object.entries(r.byOutcome)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  typed errors: ${Object.entries(r.byErrorCode)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  slowest input ${r.slowestMs.toFixed(0)} ms; peak RSS growth ${r.peakRssGrowthMiB.toFixed(0)} MiB`,
    `  CLI sample: ${r.cli.runs} runs, peak RSS ${r.cli.peakRssMiB.toFixed(0)} MiB (intact streams: ${r.cli.baselineRssMiB.toFixed(0)} MiB)`,
    `  failures: crash ${n(r, 'crash')}, hang ${n(r, 'hang')}, memory ${n(r, 'memory')}, exit-0 truncation ${n(r, 'truncation-exit-0')}, cli ${n(r, 'cli')}`,
  ];
  for (const f of r.failures.slice(0, 20))
    lines.push(`    ${f.kind}: ${f.input}: ${f.message} -> reproducers/${f.saved}`);
  return `${lines.join('\n')}\n`;
}

const n = (r: CampaignReport, k: FailureKind) => r.failures.filter((f) => f.kind === k).length;
