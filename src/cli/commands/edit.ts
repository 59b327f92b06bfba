import type { Command } from 'commander';
import { UsageError } from '../../errors';
import { runCommand } from '../exit';

export function registerEdit(program: Command): void {
  program
    .command('edit')
    .description('change field values in a migration stream and write it again')
    .argument('<file>', "migration stream ('-' for stdin)")
    .requiredOption(
      '-o, --output <out>',
      "where to write the edited stream (written whole or not at all); '-' is stdout",
    )
    .option(
      '--set <assignment>',
      "SECTION#INSTANCE/FIELD=VALUE, field names as --format qemu shows them, e.g. 'cpu#0/env.eip=0x1234' or 'cpu#0/env.regs[1]=0xdeadbeef' (repeatable). A value that does not fit its field exits with 2.",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      '--keep-trailing',
      'keep bytes after EOF that are not a whole VM description instead of refusing the stream (exit 3)',
    )
    .option('--vmdesc <file>', 'decode by this VM description JSON, for streams that carry none')
    .option(
      '--fsync',
      'sync the output to the disk before it takes its name, so it also survives a power loss (slower: waits for the disk)',
    )
    .action(
      (
        file: string,
        opts: {
          output: string;
          set: string[];
          vmdesc?: string;
          keepTrailing?: boolean;
          fsync?: boolean;
        },
      ) =>
        runCommand(file, async () => {
          if (opts.set.length === 0)
            throw new UsageError('edit: give at least one --set SECTION#INSTANCE/FIELD=VALUE');
          const catalog = (await import('../catalog-wiring')).analysisCatalog();
          const { runTranscode } = await import('../run/analyze');
          process.exitCode = await runTranscode(file, opts.output, {
            sets: opts.set,
            vmdescFile: opts.vmdesc,
            catalog,
            keepTrailing: opts.keepTrailing,
            fsync: opts.fsync,
          });
        }),
    );
}
