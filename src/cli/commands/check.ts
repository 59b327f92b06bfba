import type { Command } from 'commander';
import { runCommand } from '../exit';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'static compatibility check of two VMState descriptions: OLD and NEW are each a release (3.0 ... next), a design ' +
        '(blob, subsections, unversioned-append), a QEMU -dump-vmstate .json file, or a .ts/.js module exporting a release ' +
        '(exit 1 when a migration would break, 2 usage, 3 unusable input file)',
    )
    .argument(
      '<old>',
      'the older side (with --against: the -dump-vmstate file or directory to check)',
    )
    .argument('[new]', 'the newer side (not with --against)')
    .option(
      '--against <baseline>',
      'gate a change: check OLD (a dump or a directory of dumps) against a baseline directory, dump file or git ref',
    )
    .option(
      '--mode <mode>',
      'forward (NEW loads what OLD writes: a forward migration, older -> newer), backward (OLD loads what NEW writes, ' +
        'on the old machine type: what QEMU calls a backward migration, newer -> older) or full (both)',
      'full',
    )
    .option('--json', 'print the report as JSON (same as --error-format json)')
    .option(
      '--error-format <format>',
      'text, json, or github-actions (one ::error/::warning/::notice annotation per finding)',
    )
    .option(
      '--ignore <file>',
      'a JSON ignore file: {"ignore": [{"rule", "section", "path", "reason"}]}; matching findings are listed apart and not counted',
    )
    .option(
      '--samples <n>',
      'random VMs (besides the scenarios) used to decide whether a subsection is ever sent on the old machine type',
      '300',
    )
    .action(
      (
        oldSpec: string,
        newSpec: string | undefined,
        opts: {
          mode?: string;
          json?: boolean;
          samples?: string;
          ignore?: string;
          errorFormat?: string;
          against?: string;
        },
      ) =>
        runCommand(undefined, async () => {
          const { runCheck, runCheckAgainst } = await import('../run/check');
          const { UsageError } = await import('../../errors');
          if (opts.against !== undefined) {
            if (newSpec !== undefined)
              throw new UsageError(
                'check: with --against, give one input (a dump or a directory of dumps)',
              );
            process.exitCode = runCheckAgainst(oldSpec, opts.against, opts);
          } else {
            if (newSpec === undefined)
              throw new UsageError('check: give OLD and NEW (or one input and --against)');
            process.exitCode = runCheck(oldSpec, newSpec, opts);
          }
        }),
    );
}
