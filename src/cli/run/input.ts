import * as fs from 'fs';
import { UsageError } from '../../errors';
import { fileSource, readableSource, type ChunkSource } from '../../stream/source';

/** Opens FILE (or stdin for '-') as a chunk source; a missing or unreadable file is a usage error. */
export async function openInput(file: string): Promise<ChunkSource> {
  if (file === '-') return readableSource(process.stdin);
  try {
    if (fs.statSync(file).isDirectory()) throw new UsageError(`${file}: is a directory`);
    return await fileSource(file);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`cannot open ${file}: ${err.code ?? err.message}`);
  }
}

/**
 * Reads a whole input file (a state, a description, a dump): a path that cannot be opened is a
 * usage error (exit 2) naming it; what the file holds is the caller's to check (exit 3).
 */
export function readInputFile(file: string, what: string): string;
export function readInputFile(file: string, what: string, encoding: null): Buffer;
export function readInputFile(
  file: string,
  what: string,
  encoding: 'utf8' | null = 'utf8',
): string | Buffer {
  try {
    if (fs.statSync(file).isDirectory()) throw new UsageError(`${what} ${file}: is a directory`);
    return encoding ? fs.readFileSync(file, encoding) : fs.readFileSync(file);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`cannot open ${what} ${file}: ${err.code ?? err.message}`);
  }
}

/** Inputs smaller than this finish before a bar would be worth drawing. */
const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;

/**
 * A progress bar on stderr for large inputs when stderr is a terminal; otherwise nothing.
 * cli-progress is loaded only when a bar is drawn.
 */
export function progressReporter(total: number | undefined): {
  onProgress?: (offset: number) => void;
  stop(): void;
} {
  // The size first: reading process.stderr makes the stream (stderr-on-create.ts).
  if (total === undefined || total < PROGRESS_MIN_BYTES || !process.stderr.isTTY)
    return { stop() {} };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SingleBar, Presets } = require('cli-progress') as typeof import('cli-progress');
  const mib = (n: number) => (n / 1048576).toFixed(0);
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: ' {bar} {percentage}% | {done}/{all} MiB | {eta_formatted} left',
      hideCursor: true,
      clearOnComplete: true,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0, { done: '0', all: mib(total) });
  let shown = 0;
  const step = Math.max(1, Math.floor(total / 200));
  return {
    onProgress: (offset) => {
      if (offset - shown < step && offset < total) return;
      shown = offset;
      bar.update(Math.min(offset, total), { done: mib(offset) });
    },
    stop: () => bar.stop(),
  };
}
