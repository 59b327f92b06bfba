/**
 * A worker of runMatrix, kept for later runs (matrix-pool.ts): for each job it takes chunks of
 * the matrix's VMs from the queue it shares with the other threads (generating each chunk from
 * the seed, as every thread does), migrates them through every cell and sends the chunks'
 * tallies back. The platform comes from the module the main thread names
 * (Platform.workerModule); its VM arbitrary and cells are kept per set of releases.
 */
import * as fc from 'fast-check';
import { parentPort, workerData } from 'worker_threads';
import type { Platform } from './platform';
import type { Release } from './release';
import { matrixCells, tallyVm, type Cell } from './matrix';
import { sampleRange, takeChunks } from './matrix-chunks';
import type { GeneratedVm } from './migrate';
import type { WorkerJob, WorkerStart } from './matrix-pool';

const start = workerData as WorkerStart;
let platform: Platform | undefined;
const arbitraries = new Map<string, fc.Arbitrary<GeneratedVm>>();
const cellLists = new Map<string, Cell[]>();

function run(job: WorkerJob): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  platform ??= (require(start.module) as { platform: Platform }).platform;
  const p = platform;
  const named = (n: string): Release => {
    const r = p.releaseNamed?.(n);
    if (!r) throw new Error(`release ${n} unknown to the platform module ${start.module}`);
    return r;
  };
  const from = job.from.map(named);
  const to = job.to.map(named);
  const releases = [...new Set([...from, ...to])];
  const vmsKey = releases.map((r) => r.name).join('\0');
  let vms = arbitraries.get(vmsKey);
  if (!vms) arbitraries.set(vmsKey, (vms = p.arbitraryVm(releases)));
  const cellsKey = JSON.stringify([job.from, job.to, job.machines ?? 'newest']);
  let cells = cellLists.get(cellsKey);
  if (!cells)
    cellLists.set(
      cellsKey,
      (cells = matrixCells({ platform: p, from, to, machines: job.machines })),
    );
  const arbitrary = vms;
  const list = cells;
  const chunks = takeChunks(
    job.queue,
    job.runs,
    list.length,
    (lo, hi) => sampleRange(arbitrary, job.seed, lo, hi),
    (vm, index, into) => tallyVm(vm, index, list, into),
  );
  start.results.postMessage({ chunks });
}

parentPort?.on('message', (job: WorkerJob) => {
  try {
    run(job);
  } catch (e) {
    start.results.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  } finally {
    Atomics.store(job.done, job.index, 1);
    Atomics.notify(job.done, job.index);
  }
});
