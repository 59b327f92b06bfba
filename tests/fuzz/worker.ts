/**
 * Runs the plan's steps in a worker thread until a deadline, writing the step in hand to shared
 * memory (so the campaign can tell an input that never ends and stop this thread) and posting
 * counts twice a second and failures as they happen.
 */
import { parentPort, workerData } from 'worker_threads';
import { loadSeed, type SeedStream } from './inputs';
import { Plan, type PlanOptions } from './plan';
import { StepRunner, type StepCounts, type StepFailure } from './steps';

export interface WorkerInput {
  files: string[];
  seed: number;
  plan: PlanOptions;
  start: number;
  end: number;
  deadline: number;
  hangCpuMs: number;
  rssLimitMiB: number;
  crossCheckEvery: number;
  /** Int32Array[1]: the step being run. */
  current: SharedArrayBuffer;
  skip: number[];
}
export type WorkerMessage =
  | { type: 'progress'; next: number; counts: StepCounts }
  | { type: 'failure'; f: StepFailure }
  | { type: 'done'; next: number; counts: StepCounts };

async function main(): Promise<void> {
  const w = workerData as WorkerInput;
  // Stack traces are never looked at here (a crash is reported by its message and replayed as a
  // reproducer under jest), and every truncation throws at least one error.
  Error.stackTraceLimit = 0;
  const seeds: SeedStream[] = [];
  for (const f of w.files) seeds.push(await loadSeed(f));
  const plan = new Plan(seeds, w.seed, w.plan);
  const runner = new StepRunner({
    plan,
    byName: new Map(seeds.map((s) => [s.name, s])),
    hangCpuMs: w.hangCpuMs,
    rssLimitMiB: w.rssLimitMiB,
    crossCheckEvery: w.crossCheckEvery,
  });
  const current = new Int32Array(w.current);
  const skip = new Set(w.skip);
  const post = (m: WorkerMessage) => parentPort!.postMessage(m);
  let last = Date.now();
  let step = w.start;
  for (; step < w.end; step++) {
    if (skip.has(step)) continue;
    Atomics.store(current, 0, step);
    await runner.step(step, (f) => post({ type: 'failure', f }));
    const now = Date.now();
    if (now - last >= 500) {
      last = now;
      post({ type: 'progress', next: step + 1, counts: runner.counts });
      if (now >= w.deadline) {
        step++;
        break;
      }
    }
  }
  post({ type: 'done', next: step, counts: runner.counts });
}

void main();
