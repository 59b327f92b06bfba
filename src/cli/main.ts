#!/usr/bin/env node
/**
 * The `vmstate` command. Each subcommand lives in its own file under commands/ and loads its
 * heavy modules only when it runs, so `vmstate --version` stays fast.
 */
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands';
import { EXIT } from './exit';

import { packageVersion } from './package-info';

export function buildProgram(): Command {
  const program = new Command('vmstate')
    .description(
      'Read, write, analyze and compatibility-test QEMU migration streams (VMState wire format)',
    )
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError();
  registerCommands(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
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

/** Runs the CLI and sets the process's exit code. */
export function runMain(argv: string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(
        `vmstate: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
      );
      process.exitCode = EXIT.internal;
    },
  );
}

if (require.main === module) runMain(process.argv);
