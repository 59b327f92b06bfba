import type { Command } from 'commander';
import { runCommand } from '../exit';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerCompat(program: Command): void {
  program
    .command('compat')
    .description(
      'migrate random VMs between simulated releases over a release x release x machine-type matrix and check the ' +
        "migration property, QEMU's contract: never lossy or a crash; older -> newer (a forward migration) ok; newer -> " +
        'older (what QEMU calls a backward migration) on the older machine type ok unless the VM uses a guest or host feature the older release ' +
        'lacks; prints counts per outcome and a shrunk counterexample per failing cell (exit 1 when one fails)',
    )
    .option(
      '--from <release...>',
      'source releases (names, designs or .ts/.js modules; default: every release)',
    )
    .option('--to <release...>', 'destination releases (default: every release)')
    .option(
      '--design <design>',
      'add a design (blob, subsections, unversioned-append, or a .ts/.js module) to both sides; repeatable',
      collect,
    )
    .option(
      '--machine <type...>',
      "machine types: names, 'newest' (default: the newest of each family both releases know) or 'all'",
    )
    .option('--runs <n>', 'random VMs per cell', '100')
    .option('--seed <n>', 'fast-check seed', '42')
    .option('--json', 'print the matrix as JSON')
    .option(
      '--html <file>',
      'write the matrix as a self-contained HTML heatmap (whole or not at all)',
    )
    .option(
      '--state <file.json>',
      'migrate this one VM state (e.g. a reproduction) through the cells instead of random VMs',
    )
    .option('--no-shrink', 'report the first failing VM of a cell without shrinking it')
    .option('--shrink-time <ms>', 'time limit of shrinking per failing cell', '2000')
    .action((opts: Record<string, unknown>) =>
      runCommand(undefined, async () => {
        const { runCompat } = await import('../run/compat');
        process.exitCode = await runCompat(opts);
      }),
    );
}
