import type { Command } from 'commander';
import { runCommand } from '../exit';

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description(
      'load a migration stream the way QEMU RELEASE on machine type M would, without running it: ' +
        'ok, refused (with the lines QEMU prints, the section and the field to blame), lossy, or ' +
        'unknown when the stream has sections the catalog has no description of (exit 0 ok, ' +
        '1 refused or lossy, 2 usage or a release/machine type the catalog does not know, ' +
        '3 malformed stream or unknown). ' +
        'Directions as QEMU names them: --to an older release than the one that wrote the stream is a backward migration ' +
        '(newer -> older, on the older machine type), --to a newer one a forward migration',
    )
    .argument('<file>', 'the stream (a file, or - for stdin)')
    .requiredOption(
      '--to <release>',
      'the destination release (see --help for those the catalog knows); older than the source: a backward migration',
    )
    .option('--machine <type>', "the destination's -machine (default: the one the stream names)")
    .option(
      '--accel <accel>',
      "the destination's accelerator: tcg, or kvm (a host with nested VMX/SVM and KVM_CAP_NESTED_STATE)",
      'tcg',
    )
    .option('--json', 'print the prediction as JSON, the reason in fields')
    .action(
      (file: string, opts: { to: string; machine?: string; accel?: string; json?: boolean }) =>
        runCommand(file, async () => {
          const { runPredict } = await import('../run/predict');
          process.exitCode = await runPredict(file, opts, process.stdout, process.stderr);
        }),
    );
}
