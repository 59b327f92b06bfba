import type { Command } from 'commander';
import { runCommand } from '../exit';

export function registerReleases(program: Command): void {
  program
    .command('releases')
    .description(
      'list the simulated QEMU releases, their machine types and cpu subsections, the nested-state design alternatives and the scenarios',
    )
    .option('--json', 'machine-readable output (every machine type with its compat properties)')
    .action((opts: { json?: boolean }) =>
      runCommand(undefined, async () => {
        const { runReleases } = await import('../run/releases');
        runReleases(opts);
      }),
    );
}
