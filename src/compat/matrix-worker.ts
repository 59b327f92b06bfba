/**
 * A worker of runMatrix: migrates its slice of the matrix's VMs (generated from the same seed
 * as the main thread's) through every cell and sends the tallies back on its port.
 */
import * as fc from 'fast-check';
import { workerData, type MessagePort } from 'worker_threads';
import { releases } from '../../vmstate/releases';
import { arbitraryVm } from './vm-arbitrary';
import { matrixSlice, type MatrixOptions } from './matrix';

const job = workerData as {
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
  const from = job.from.map((n) => releases[n]);
  const to = job.to.map((n) => releases[n]);
  const vms = arbitraryVm({ releases: [...new Set([...from, ...to])] });
  const samples = fc.sample(vms, { numRuns: job.runs, seed: job.seed });
  const tallies = matrixSlice(
    { from, to, machines: job.machines, runs: job.runs },
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
