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
    .option(
      '--keep-trailing',
      'keep bytes after EOF that are not a whole VM description instead of refusing the stream (exit 3)',
    )
    .option(
      '--add-vmdesc',
      'append the VM description QEMU would have written, from the device catalog (a stream without one)',
    )
    .option('--release <release>', 'the real release that wrote the stream (its device catalog)')
    .option(
      '--fsync',
      'sync the output to the disk before it takes its name, so it also survives a power loss (slower: waits for the disk)',
    )
    .action(
      (
        file: string,
        opts: {
          output: string;
          keepTrailing?: boolean;
          addVmdesc?: boolean;
          release?: string;
          fsync?: boolean;
        },
      ) =>
        runCommand(file, async () => {
          const catalog = (await import('../catalog-wiring')).analysisCatalog();
          const { runTranscode } = await import('../run/analyze');
          process.exitCode = await runTranscode(file, opts.output, {
            catalog,
            keepTrailing: opts.keepTrailing,
            release: opts.release,
            addVmdesc: opts.addVmdesc,
            fsync: opts.fsync,
          });
        }),
    );
}
