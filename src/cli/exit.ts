import { BadInputFileError, RefusedError, UsageError, VMStateError } from '../errors';

/** The CLI's exit codes: scripts depend on them. */
export const EXIT = {
  ok: 0,
  /** The thing asked for is not possible or not compatible (a checker found a break, a blocker refused). */
  refused: 1,
  /** Bad flags or arguments, and paths that cannot be opened or written. */
  usage: 2,
  /** An input whose content is malformed or unsupported (a stream, a dump, a state file...). */
  badInput: 3,
  /** A bug in vmstate: one line asking for a report, never a stack trace. */
  internal: 4,
} as const;

/** What `vmstate --help` says about exit codes (README says the same). */
export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  refused or incompatible (a checker found a break, a release refuses, a matrix cell fails)
  2  usage: bad flags or arguments, a path that cannot be opened or written
  3  an input whose content is malformed or unsupported (named, with the offset or key)
  4  an internal error (a bug in vmstate; it asks for a report with the command line)`;

/** The arguments of the command being run (set when commander parses them). */
let invokedWith: readonly string[] | undefined;
export function setInvokedArgs(args: readonly string[] | undefined): void {
  invokedWith = args;
}

/** The command line as typed, quoted where needed, for a bug report. */
export function commandLine(
  argv: readonly string[] = invokedWith ?? process.argv.slice(2),
): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['vmstate', ...argv.map(quote)].join(' ');
}

/** One line for a failure nothing expected, and its exit code (VMSTATE_DEBUG=1 adds the stack). */
export function reportInternal(e: unknown, argv?: readonly string[]): number {
  const sys = e as NodeJS.ErrnoException;
  if (e instanceof Error && typeof sys.code === 'string' && sys.syscall && sys.path) {
    // The system refused a file operation the checks before could not foresee (disk full...).
    process.stderr.write(`vmstate: cannot ${sys.syscall} ${sys.path}: ${sys.code}\n`);
    return EXIT.usage;
  }
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  process.stderr.write(
    `vmstate: internal error (a bug in vmstate): ${what.split('\n')[0]}; please report it with the command line: ${commandLine(argv)}\n`,
  );
  if (process.env.VMSTATE_DEBUG && e instanceof Error && e.stack)
    process.stderr.write(`${e.stack}\n`);
  return EXIT.internal;
}

/**
 * Text from the stream (a section's idstr, a field name) with its control characters as \xNN:
 * a mutated length byte can make an idstr take in a newline, and an error stays one line.
 */
export function printable(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\x00-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/**
 * Runs a command body and turns every failure into one line on stderr and the right exit code.
 * `file` names the input in the message of a malformed-input failure (a function: the input
 * known only once it failed, e.g. which of two streams).
 */
export async function runCommand(
  file: string | undefined | (() => string | undefined),
  body: () => Promise<void> | void,
): Promise<void> {
  try {
    await body();
  } catch (e) {
    if (e instanceof VMStateError) {
      const where = `offset 0x${e.offset.toString(16)}`;
      const path = e.path ? `, ${printable(e.path)}` : '';
      const name = typeof file === 'function' ? file() : file;
      process.stderr.write(
        `vmstate: ${name ?? '<input>'}: ${where}${path}: ${printable(e.what)}\n`,
      );
      process.exitCode = EXIT.badInput;
    } else if (e instanceof BadInputFileError) {
      process.stderr.write(`vmstate: ${e.message}\n`);
      process.exitCode = EXIT.badInput;
    } else if (e instanceof UsageError) {
      process.stderr.write(`vmstate: ${e.message}\n`);
      process.exitCode = EXIT.usage;
    } else if (e instanceof RefusedError) {
      process.stderr.write(`vmstate: ${e.message}\n`);
      process.exitCode = EXIT.refused;
    } else {
      process.exitCode = reportInternal(e);
    }
  }
}
