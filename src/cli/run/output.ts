import * as fs from 'fs';
import { UsageError } from '../../errors';
import { writeFileAtomically } from '../../stream/atomic-file';

/** Where a command's output goes: a file written whole (temporary name, then renamed), or stdout for `-` or none. */
export async function writeOutput(
  target: string | undefined,
  text: string | Uint8Array,
  what = 'output',
): Promise<void> {
  if (target === undefined || target === '-') {
    process.stdout.write(text);
    return;
  }
  try {
    await writeFileAtomically(target, async (fd) => fs.writeFileSync(fd, text));
  } catch (e) {
    throw new UsageError(
      `cannot write ${what} ${target}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}
