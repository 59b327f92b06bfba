import type { Command } from 'commander';
import { runCommand } from '../exit';

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description(
      'compare two migration streams: sections by (idstr, instance), versions, subsections, fields, RAM blocks and pages (exit 0 same, 1 different)',
    )
    .argument('<a>', "first stream ('-' for stdin)")
    .argument('<b>', 'second stream')
    .option('--format <format>', 'tree (summary, then what differs) or json', 'tree')
    .option(
      '--section <name>',
      "only the sections whose name matches (glob: '*', '?'; idstr, idstr#instance or the last part of the idstr; repeatable)",
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option(
      '--ram <mode>',
      'none, summary (block lists and sizes, the default) or pages (differing pages as ranges)',
      'summary',
    )
    .option(
      '--html <file>',
      "also write the diff as one self-contained HTML page; '-' writes the page to stdout instead of the text",
    )
    .action(
      (
        a: string,
        b: string,
        opts: { format: string; section?: string[]; ram: string; html?: string },
      ) => {
        let failed: string | undefined;
        return runCommand(
          () => failed,
          async () => {
            const catalog = (await import('../catalog-wiring')).analysisCatalog();
            const { runDiff } = await import('../run/diff');
            process.exitCode = await runDiff(a, b, opts, (f) => (failed = f), catalog);
          },
        );
      },
    );
}
