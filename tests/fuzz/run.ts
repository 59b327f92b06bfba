/**
 * `npm run fuzz [-- --seconds N --seed S --streams DIR]`: the campaign (see campaign.ts). Exit 1
 * on any crash, hang, memory blow-up, exit-0 truncation or CLI failure; each is saved under
 * tests/fuzz/reproducers/, which `npm test` replays.
 */
import * as path from 'path';
import { formatReport, runCampaign } from './campaign';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const seconds = Number(arg('seconds') ?? 60);
  const seed = Number(arg('seed') ?? Math.floor(Math.random() * 2 ** 31));
  if (!(seconds > 0) || !Number.isInteger(seed)) {
    process.stderr.write('usage: npm run fuzz -- [--seconds N] [--seed S] [--streams DIR]\n');
    return 2;
  }
  const streams = arg('streams');
  process.stdout.write(
    `fuzz: seed ${seed} (again: npm run fuzz -- --seed ${seed} --seconds ${seconds})\n`,
  );
  const report = await runCampaign({
    seconds,
    seed,
    streamDirs: streams ? [path.resolve(streams)] : [],
    cliEverySeconds: 10,
    // The source tree's reproducer directory, not dist's copy.
    reproDir: path.resolve(__dirname, '..', '..', '..', 'tests', 'fuzz', 'reproducers'),
    log: (l) => process.stdout.write(`${l}\n`),
  });
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
