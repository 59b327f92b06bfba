/**
 * `npm run fuzz [-- --seconds N --seed S --streams DIR --shard I/N --report FILE
 * --cuts-per-mutation K --cuts-only --steps N --cli-every S]`: the campaign (see campaign.ts).
 * Exit 1 on any crash, hang, memory blow-up, exit-0 truncation, CLI failure or checkpoint
 * mismatch; each is saved under tests/fuzz/reproducers/, which `npm test` replays.
 * `node dist-bench/tests/fuzz/run.js --merge A.json B.json ...` prints one report of shards.
 */
import * as fs from 'fs';
import * as path from 'path';
import { formatReport, mergeReports, runCampaign, type CampaignReport } from './campaign';
import type { PlanOptions } from './plan';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

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
    process.stderr.write(
      'usage: npm run fuzz -- [--seconds N] [--seed S] [--streams DIR] [--shard I/N] [--report FILE] [--cuts-per-mutation K] [--cuts-only] [--steps N] [--cli-every S]\n',
    );
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
