#!/usr/bin/env node
/**
 * The `vmstate` command. Each subcommand lives in its own file under commands/ and loads its
 * heavy modules only when it runs, so `vmstate --version` stays fast.
 */
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands';
import { EXIT, EXIT_CODES_HELP, reportInternal, setInvokedArgs } from './exit';

import { packageVersion } from './package-info';
import { removeTempsOnSignals } from './signals';
import { onStderrCreated } from './stderr-on-create';

export function buildProgram(): Command {
  const program = new Command('vmstate')
    .description(
      'Read, write, analyze and compatibility-test QEMU migration streams (VMState wire format)',
    )
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError()
    .addHelpText('after', EXIT_CODES_HELP)
    .hook('preAction', (root) => {
      // commander keeps the argv it parsed (node, script, args...): a bug report quotes the args.
      const raw = (root as unknown as { rawArgs?: string[] }).rawArgs;
      if (raw) setInvokedArgs(raw.slice(2));
    });
  registerCommands(program);
  return program;
}

async function main(argv: string[], program: Command): Promise<number> {
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through exitOverride with code 0.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw e;
  }
}

/**
 * Runs the CLI and sets the process's exit code. `program` is used once: a command parses its
 * arguments into it (the start-up snapshot passes one it built at build time).
 */
export function runMain(argv: string[], program: Command = buildProgram()): void {
  // Whatever escapes a command body (an error in an event handler) is one line too.
  process.on('uncaughtException', (e) => {
    process.exitCode = reportInternal(e);
  });
  // A closed stderr (`vmstate ... 2>&1 | head -0`): an error that cannot be printed ends the run
  // with the exit code already set, instead of reporting itself to stderr again, forever. Set
  // up when stderr is first used: a run that prints nothing there never makes the stream.
  onStderrCreated((stderr) => stderr.on('error', () => process.exit()));
  removeTempsOnSignals();
  main(argv, program).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.exitCode = reportInternal(e);
    },
  );
}

if (require.main === module) runMain(process.argv);
