import { RefusedError, UsageError, VMStateError } from '../errors';

/** The CLI's exit codes: scripts depend on them. */
export const EXIT = {
  ok: 0,
  /** The thing asked for is not possible or not compatible (a checker found a break, a blocker refused). */
  refused: 1,
  usage: 2,
  /** The input file is malformed or uses something unsupported. */
  badInput: 3,
  internal: 70,
} as const;

/**
 * Runs a command body and turns known failures into one line on stderr and the right exit code.
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
      const path = e.path ? `, ${e.path}` : '';
      const name = typeof file === 'function' ? file() : file;
      process.stderr.write(`vmstate: ${name ?? '<input>'}: ${where}${path}: ${e.what}\n`);
      process.exitCode = EXIT.badInput;
    } else if (e instanceof UsageError) {
      process.stderr.write(`vmstate: ${e.message}\n`);
      process.exitCode = EXIT.usage;
    } else if (e instanceof RefusedError) {
      process.stderr.write(`vmstate: ${e.message}\n`);
      process.exitCode = EXIT.refused;
    } else {
      throw e;
    }
  }
}
