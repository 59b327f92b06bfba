import type { Command } from 'commander';
import { runCommand } from '../exit';

export function registerReencode(program: Command): void {
  program
    .command('reencode')
    .description(
      'decode a migration stream and encode it again (byte-identical for an unmodified stream)',
    )
    .argument('<file>', "migration stream ('-' for stdin)")
    .requiredOption(
      '-o, --output <out>',
      "where to write the stream (written whole or not at all); '-' is stdout",
    )
    .action((file: string, opts: { output: string }) =>
      runCommand(file, async () => {
        (await import('../catalog-wiring')).wireCatalog();
        const { runTranscode } = await import('../run/analyze');
        process.exitCode = await runTranscode(file, opts.output, []);
      }),
    );
}
