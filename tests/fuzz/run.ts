/**
 * `npm run fuzz [-- --seconds N --seed S --streams DIR --shard I/N --report FILE
 * --cuts-per-mutation K --cuts-only --steps N --cli-every S]`: the campaign (see campaign.ts).
 * Exit 1 on any crash, hang, memory blow-up, exit-0 truncation, CLI failure or checkpoint
 * mismatch; each is saved under tests/fuzz/reproducers/, which `npm test` replays.
 * `node dist-bench/tests/fuzz/run.js --merge A.json B.json ...` prints one report of shards.
 * `--jobs N` runs the N shards of the same run as N processes and prints (with --report, writes)
 * their merged report; each shard's report is kept beside it (FILE-shard-IofN.json).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { formatReport, mergeReports, runCampaign, type CampaignReport } from './campaign';
import type { PlanOptions } from './plan';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const USAGE =
  'usage: npm run fuzz -- [--seconds N] [--seed S] [--streams DIR] [--shard I/N | --jobs N] [--report FILE] [--cuts-per-mutation K] [--cuts-only] [--steps N] [--cli-every S]';

/** The run's N shards as N processes of this script (same arguments), then their merged report. */
async function runJobs(n: number, seed: number): Promise<number> {
  if (!Number.isInteger(n) || n < 1 || n > 64 || arg('shard') !== undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const out =
    arg('report') ??
    path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-fuzz-')), 'report.json');
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const base = out.replace(/\.json$/, '');
  // The other arguments as given, with this run's seed (drawn once for every shard) and shard.
  const rest: string[] = [];
  for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i];
    if (['--jobs', '--report', '--seed'].includes(a)) i++;
    else rest.push(a);
  }
  const files = Array.from({ length: n }, (_, i) => `${base}-shard-${i}of${n}.json`);
  const codes = await Promise.all(
    files.map(
      (file, i) =>
        new Promise<number>((resolve) => {
          const child = spawn(
            process.execPath,
            [__filename, ...rest, '--seed', String(seed), '--shard', `${i}/${n}`, '--report', file],
            { stdio: ['ignore', 'pipe', 'inherit'] },
          );
          child.stdout.on('data', (d: Buffer) =>
            process.stdout.write(
              d
                .toString()
                .split('\n')
                .filter(Boolean)
                .map((l) => `[${i}/${n}] ${l}\n`)
                .join(''),
            ),
          );
          child.on('close', (code) => resolve(code ?? 1));
        }),
    ),
  );
  if (codes.some((c) => c !== 0 && c !== 1) || files.some((f) => !fs.existsSync(f))) {
    process.stderr.write(`fuzz: a shard did not finish (exit codes ${codes.join(', ')})\n`);
    return 1;
  }
  const merged = mergeReports(
    files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as CampaignReport),
  );
  fs.writeFileSync(out, `${JSON.stringify(merged, null, 2)}\n`);
  fs.writeFileSync(`${base}.txt`, formatReport(merged));
  process.stdout.write(
    `fuzz: ${n} shards merged into ${out} and ${base}.txt\n${formatReport(merged)}`,
  );
  return merged.failures.length ? 1 : 0;
}

async function main(): Promise<number> {
  if (flag('merge')) {
    const files = process.argv.slice(process.argv.indexOf('--merge') + 1);
    const reports = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as CampaignReport);
    const merged = mergeReports(reports);
    process.stdout.write(formatReport(merged));
    return merged.failures.length ? 1 : 0;
  }
  const seconds = Number(arg('seconds') ?? 60);
  const seed = Number(arg('seed') ?? Math.floor(Math.random() * 2 ** 31));
  const jobs = arg('jobs');
  if (jobs !== undefined) return runJobs(Number(jobs), seed);
  const shardArg = arg('shard');
  const shard = shardArg ? /^(\d+)\/(\d+)$/.exec(shardArg) : undefined;
  const cutsPerMutation = arg('cuts-per-mutation');
  const steps = arg('steps');
  if (
    !(seconds > 0) ||
    !Number.isInteger(seed) ||
    (shardArg !== undefined && (!shard || Number(shard[1]) >= Number(shard[2]))) ||
    (cutsPerMutation !== undefined && !(Number(cutsPerMutation) >= 0))
  ) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const plan: PlanOptions = {
    shard: shard ? { index: Number(shard[1]), count: Number(shard[2]) } : undefined,
    cutsPerMutation: cutsPerMutation === undefined ? undefined : Number(cutsPerMutation),
    cutsOnly: flag('cuts-only'),
  };
  const streams = arg('streams');
  process.stdout.write(
    `fuzz: seed ${seed} (again: npm run fuzz -- --seed ${seed} --seconds ${seconds}${shardArg ? ` --shard ${shardArg}` : ''})\n`,
  );
  const report = await runCampaign({
    seconds,
    seed,
    plan,
    steps: steps === undefined ? undefined : Number(steps),
    streamDirs: streams ? [path.resolve(streams)] : [],
    cliEverySeconds: Number(arg('cli-every') ?? 10),
    // The source tree's reproducer directory, not dist's copy.
    reproDir: path.resolve(__dirname, '..', '..', '..', 'tests', 'fuzz', 'reproducers'),
    log: (l) => process.stdout.write(`${l}\n`),
  });
  const out = arg('report');
  if (out) fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(formatReport(report));
  return report.failures.length ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  },
);
