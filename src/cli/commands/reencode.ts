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
      '--add-vmdesc',
      'append the VM description QEMU would have written, from the device catalog (a stream without one)',
    )
    .option('--release <release>', 'the real release that wrote the stream (its device catalog)')
    .action((file: string, opts: { output: string; addVmdesc?: boolean; release?: string }) =>
      runCommand(file, async () => {
        (await import('../catalog-wiring')).wireCatalog();
        const { runTranscode } = await import('../run/analyze');
        process.exitCode = await runTranscode(file, opts.output, [], undefined, {
          release: opts.release,
          addVmdesc: opts.addVmdesc,
        });
      }),
    );
}
