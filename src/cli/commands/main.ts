import type { Command } from 'commander';
import { runCommand } from '../exit';

export function registerMain(program: Command): void {
  program
    .command('main')
    .description(
      'the tour `npm start` runs: decode a bundled QEMU 7.2 stream, then print the compatibility matrix of the simulated releases and designs',
    )
    .option('--runs <n>', 'random VMs per matrix cell', '100')
    .action((opts: { runs: string }) =>
      runCommand(undefined, async () => {
        const { UsageError } = await import('../../errors');
        const runs = Number(opts.runs);
        if (!Number.isInteger(runs) || runs < 1)
          throw new UsageError(`main: --runs must be a whole number >= 1 (got '${opts.runs}')`);
        const { runMain } = await import('../run/main');
        process.stdout.write(await runMain({ runs }));
      }),
    );
}
