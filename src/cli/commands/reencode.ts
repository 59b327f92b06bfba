import type { Command } from 'commander';
import { runCommand } from '../exit';

export function registerReencode(program: Command): void {
  program
    .command('reencode')
    .description(
      'decode a migration stream and encode it again (byte-identical for an unmodified stream)',
    )
    .argument('<file>', "migration stream ('-' for stdin)")
    .requiredOption('-o, --output <out>', 'where to write the stream (written whole or not at all)')
    .option(
      '--keep-trailing',
      'keep bytes after EOF that are not a whole VM description instead of refusing the stream (exit 3)',
    )
    .action((file: string, opts: { output: string; keepTrailing?: boolean }) =>
      runCommand(file, async () => {
        const catalog = (await import('../catalog-wiring')).analysisCatalog();
        const { runTranscode } = await import('../run/analyze');
        process.exitCode = await runTranscode(file, opts.output, {
          catalog,
          keepTrailing: opts.keepTrailing,
        });
      }),
    );
}
