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
    .argument('<old>', 'the older side')
    .argument('<new>', 'the newer side')
    .option(
      '--mode <mode>',
      'backward (NEW loads what OLD writes), forward (OLD loads what NEW writes, on the old machine type) or full',
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
        newSpec: string,
        opts: {
          mode?: string;
          json?: boolean;
          samples?: string;
          ignore?: string;
          errorFormat?: string;
        },
      ) =>
        runCommand(undefined, async () => {
          const { runCheck } = await import('../run/check');
          process.exitCode = runCheck(oldSpec, newSpec, opts);
        }),
    );
}
