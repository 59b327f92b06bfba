/**
 * Runs the plan from a step until a deadline, reporting each input before and after, so the
 * parent can tell a hang (no "end" within the time limit) and stop this thread.
 */
import { parentPort, workerData } from 'worker_threads';
import { inputBytes, loadSeed, type Descriptor, type SeedStream } from './inputs';
import { Plan } from './plan';
import { runOne, type Outcome } from './run-one';

export interface WorkerInput {
  files: string[];
  seed: number;
  start: number;
  deadline: number;
}
export type WorkerMessage =
  | { type: 'ready'; truncations: number }
  | { type: 'begin'; step: number; d: Descriptor }
  | {
      type: 'end';
      step: number;
      d: Descriptor;
      outcome: Outcome;
      ms: number;
      rss: number;
      size: number;
    }
  | { type: 'done'; step: number };

async function main(): Promise<void> {
  const { files, seed, start, deadline } = workerData as WorkerInput;
  const seeds: SeedStream[] = [];
  for (const f of files) seeds.push(await loadSeed(f));
  const byName = new Map(seeds.map((s) => [s.name, s]));
  const plan = new Plan(seeds, seed);
  const post = (m: WorkerMessage) => parentPort!.postMessage(m);
  post({ type: 'ready', truncations: plan.truncations });
  let step = start;
  for (; Date.now() < deadline; step++) {
    const d = plan.at(step);
    post({ type: 'begin', step, d });
    const bytes = inputBytes(d, byName);
    const t = process.hrtime.bigint();
    // Views and re-encoding on every mutation and hostile shape, and on every 16th cut.
    const outcome = await runOne(bytes, d.kind !== 'truncate' || step % 32 === 0);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    post({ type: 'end', step, d, outcome, ms, rss: process.memoryUsage().rss, size: bytes.length });
  }
  post({ type: 'done', step });
}

void main();
