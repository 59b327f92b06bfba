import type { Command } from 'commander';
import { runCommand } from '../exit';

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description(
      'write the migration stream a QEMU release (real or simulated) would write for a scenario or a JSON VM state ' +
        '(exit 1, saying why, when that release refuses to migrate it or would lose part of it)',
    )
    .requiredOption(
      '--release <name>',
      'a release (real or simulated) or a design, as `vmstate releases` lists them',
    )
    .option('--machine <type>', "machine type, e.g. pc-q35-4.1 (default: the release's newest q35)")
    .option('--scenario <name>', 'a built-in scenario (see `vmstate releases`)')
    .option(
      '--state <file>',
      'a VM state as JSON (format vmstate-lab/vm-state@1; see vmstate/releases/state-json.ts)',
    )
    .option(
      '-o, --output <out.mig>',
      "where to write the stream (written whole or not at all); '-' is stdout",
    )
    .option(
      '--nested-state <file>',
      "a raw struct kvm_nested_state (a KVM_GET_NESTED_STATE dump) for the vCPU, checked by KVM's rules",
    )
    .option(
      '--lossy',
      'write the stream even when the release silently drops nested state, as that QEMU did',
    )
    .option(
      '--write-state <file.json>',
      "also write the VM state as JSON (a starting point for --state); '-' is stdout",
    )
    .action(
      (opts: {
        release: string;
        machine?: string;
        scenario?: string;
        state?: string;
        output?: string;
        lossy?: boolean;
        writeState?: string;
        nestedState?: string;
      }) =>
        runCommand(opts.state, async () => {
          const { runGenerate } = await import('../run/releases');
          process.exitCode = await runGenerate(opts);
        }),
    );
}
