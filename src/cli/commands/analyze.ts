import type { Command } from 'commander';
import { runCommand } from '../exit';

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description(
      "decode a whole migration stream by the VM description it carries (like QEMU's analyze-migration.py)",
    )
    .argument('<file>', "migration stream ('-' for stdin)")
    .option(
      '--format <format>',
      'json (structure, offsets, fields with types), tree (outline) or qemu (exactly what analyze-migration.py prints)',
      'json',
    )
    .option(
      '--dump <what>',
      "state (device state, the default) or desc (the VM description), as analyze-migration.py's -d",
      'state',
    )
    .option(
      '--extract <dir>',
      'write desc.json, state.json and one file per RAM block into DIR (as analyze-migration.py -x); an existing DIR that is empty or an earlier extract is replaced whole',
    )
    .option('--force', 'with --extract: replace DIR whole even when it holds other files')
    .option(
      '--keep-trailing',
      'keep bytes after EOF that are not a whole VM description instead of refusing the stream (exit 3)',
    )
    .option(
      '--check-catalog',
      "compare each section with the device catalog (the release's, on the stream's machine type)",
    )
    .option(
      '--release <release>',
      'the real release that wrote the stream (5.2, 7.2, 10.0): picks the device catalog for streams without a VM description (default: worked out, and said)',
    )
    .option(
      '--vmdesc <file>',
      "decode by this VM description JSON (e.g. an earlier --extract's desc.json) instead of the stream's own",
    )
    .option(
      '--section <name>',
      "only the sections whose name matches (glob: '*', '?'; idstr or idstr#instance; repeatable)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--raw', '--format tree: also print the raw vmcs12 / vmcb12 pages of a nested state')
    .option('-o, --output <file>', "write the output to FILE (whole or not at all); '-' is stdout")
    .option('--no-progress', 'never draw a progress bar')
    .action(
      (
        file: string,
        opts: {
          format: string;
          dump: string;
          extract?: string;
          checkCatalog?: boolean;
          vmdesc?: string;
          keepTrailing?: boolean;
          force?: boolean;
          release?: string;
          section: string[];
          raw?: boolean;
          output?: string;
          progress: boolean;
        },
      ) =>
        runCommand(file, async () => {
          const catalog = (await import('../catalog-wiring')).analysisCatalog();
          const { runAnalyze } = await import('../run/analyze');
          process.exitCode = await runAnalyze(file, opts, catalog);
        }),
    );
}
