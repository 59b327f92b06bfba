/**
 * One input through the built CLI as a user runs it, under /usr/bin/time: exit code, stderr and
 * the process's peak RSS. The campaign's CLI sample runs it, and the in-process memory check asks
 * it whether an input that grew the worker's RSS also blows up alone.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The memory budget for any input: a process's peak RSS. */
export const CLI_RSS_LIMIT = 100 * 1048576;

/**
 * The library's build (dist/), from the campaign's build (dist-bench/tests/fuzz) or the sources
 * (tests/fuzz, under jest); undefined when not built.
 */
export function builtCli(): string | undefined {
  return [path.resolve(__dirname, '..', '..', '..'), path.resolve(__dirname, '..', '..')]
    .map((root) => path.join(root, 'dist', 'src', 'cli', 'main.js'))
    .find((cli) => fs.existsSync(cli));
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Peak RSS of the process, bytes. */
  rss: number;
}

/** `vmstate analyze FILE --format FORMAT` (timeFile receives /usr/bin/time's figure). */
export function runCliMeasured(
  cli: string,
  file: string,
  format: string,
  timeFile: string,
): CliRun {
  const r = spawnSync(
    '/usr/bin/time',
    ['-o', timeFile, '-f', '%M', process.execPath, cli, 'analyze', file, '--format', format],
    { encoding: 'utf8', timeout: 30_000, maxBuffer: 1 << 30 },
  );
  const rss = Number(fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()) * 1024;
  return { code: r.status, signal: r.signal, stderr: r.stderr.trimEnd(), rss };
}

/** The peak RSS of one input alone through the CLI (json, the costliest view), or undefined without a build. */
export function peakRssAlone(bytes: Uint8Array): number | undefined {
  const cli = builtCli();
  if (!cli) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-fuzz-alone-'));
  try {
    const file = path.join(dir, 'input.mig');
    fs.writeFileSync(file, bytes);
    return runCliMeasured(cli, file, 'json', path.join(dir, 'time.txt')).rss;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
