/**
 * A worker of runMatrix: takes chunks of the matrix's VMs from the queue it shares with the
 * other threads (generating each chunk from the seed, as every thread does), migrates them
 * through every cell and sends the chunks' tallies back on its port. The platform comes from
 * the module the main thread names (Platform.workerModule).
 */
import { workerData } from 'worker_threads';
import type { Platform } from './platform';
import type { Release } from './release';
import { matrixCells, tallyVm, type WorkerJob } from './matrix';
import { sampleRange, takeChunks } from './matrix-chunks';

const job = workerData as WorkerJob;

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
  const cells = matrixCells({ platform, from, to, machines: job.machines });
  const chunks = takeChunks(
    job.queue,
    job.runs,
    cells.length,
    (lo, hi) => sampleRange(vms, job.seed, lo, hi),
    (vm, index, into) => tallyVm(vm, index, cells, into),
  );
  job.port.postMessage({ chunks });
} catch (e) {
  job.port.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
} finally {
  Atomics.store(job.done, job.index, 1);
  Atomics.notify(job.done, job.index);
}
