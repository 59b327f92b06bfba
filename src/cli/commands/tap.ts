import type { Command } from 'commander';
import type { TapCliOptions } from '../run/tap';
import { runCommand } from '../exit';

export function registerTap(program: Command): void {
  program
    .command('tap')
    .description(
      'a proxy between a source and a destination QEMU that decodes the migration stream in flight (exit 0 done, 1 refused or aborted, 3 connection lost or malformed)',
    )
    .requiredOption('--listen <addr>', 'where the source connects: tcp:HOST:PORT or unix:PATH')
    .requiredOption('--forward <addr>', 'where the destination listens: tcp:HOST:PORT or unix:PATH')
    .option('--save <file>', 'write the stream as it passed (whole or not at all)')
    .option(
      '--check <release>',
      "the destination release's verdict on what passes (vmstate releases)",
    )
    .option(
      '--machine <type>',
      "the destination's machine type (with --check; default: the stream's)",
    )
    .option(
      '--abort-on-refusal',
      'close both connections before the destination receives a part --check refuses',
    )
    .option('--json', 'one JSON object per line: each section as it passes, then the summary')
    .option('--accept-timeout <seconds>', 'how long to wait for the source to connect', '120')
    .action((opts: TapCliOptions) =>
      runCommand('tap', async () => {
        const { runTap } = await import('../run/tap');
        process.exitCode = await runTap(opts);
      }),
    );
}
