/**
 * A worker of runMatrix: migrates its slice of the matrix's VMs (generated from the same seed
 * as the main thread's) through every cell and sends the tallies back on its port. The platform
 * comes from the module the main thread names (Platform.workerModule).
 */
import * as fc from 'fast-check';
import { workerData, type MessagePort } from 'worker_threads';
import type { Platform } from './platform';
import type { Release } from './release';
import { matrixSlice, type MatrixOptions } from './matrix';

const job = workerData as {
  module: string;
  from: string[];
  to: string[];
  machines: MatrixOptions['machines'];
  runs: number;
  seed: number;
  lo: number;
  hi: number;
  port: MessagePort;
  done: Int32Array;
  index: number;
};

try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { platform } = require(job.module) as { platform: Platform };
  const named = (n: string): Release => {
    const r = platform.releaseNamed?.(n);
    if (!r) throw new Error(`release ${n} unknown to the platform module ${job.module}`);
    return r;
  };
  const from = job.from.map(named);
  const to = job.to.map(named);
  const vms = platform.arbitraryVm([...new Set([...from, ...to])]);
  const samples = fc.sample(vms, { numRuns: job.runs, seed: job.seed });
  const tallies = matrixSlice(
    { platform, from, to, machines: job.machines, runs: job.runs },
    samples,
    job.lo,
    job.hi,
  );
  job.port.postMessage({ tallies: [tallies] });
} catch (e) {
  job.port.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
} finally {
  Atomics.store(job.done, job.index, 1);
  Atomics.notify(job.done, job.index);
}
