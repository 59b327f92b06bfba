/**
 * The campaign's inner loop, the same in its worker thread and in the jest slice: each step's
 * input through the decoder (a truncation through StreamCuts, anything else through runOne),
 * timed by CPU, with memory watched and the outcome counted.
 *
 * A hang is an input that takes over the limit (2 s) of CPU time. Each input's wall-clock time
 * is measured (cheap); one over the limit is run again with its CPU time measured, and only
 * that decides: CPU time, unlike the wall clock, does not grow when other jobs share the machine
 * (it is the process's CPU time, so the watching thread and the garbage collector count too: an
 * upper bound; CPU time never exceeds the wall clock of one thread by more than those, so the
 * wall-clock filter lets no hang through). An input that never ends is caught by the campaign's
 * wall-clock watchdog instead.
 */
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import { CLI_RSS_LIMIT, peakRssAlone } from './cli-run';
import { StreamCuts } from './cuts';
import { inputBytes, type Descriptor, type SeedStream } from './inputs';
import { StreamMutations, type MutationPath } from './mutations';
import type { Plan } from './plan';
import { runOne, type Outcome } from './run-one';

export type FailureKind =
  | 'crash'
  | 'hang'
  | 'memory'
  | 'truncation-exit-0'
  | 'cli'
  /** A truncation decoded from a checkpoint ended otherwise than decoded from byte 0. */
  | 'checkpoint-mismatch';

export interface StepFailure {
  kind: FailureKind;
  step: number;
  d: Descriptor;
  message: string;
}

export interface StepCounts {
  inputs: number;
  truncations: number;
  mutations: number;
  hostile: number;
  byOutcome: Record<string, number>;
  byErrorCode: Record<string, number>;
  /** Truncations also decoded from byte 0, to check the checkpoints. */
  crossChecked: number;
  /** How mutations were walked (see mutations.ts), those that stopped back in step, and those also decoded from byte 0. */
  mutationPaths?: Partial<Record<MutationPath | 'in-step' | 'cross-checked', number>>;
  slowestCpuMs: number;
  slowestWallMs: number;
  /** Time of all inputs, by kind (wall clock; CPU time for those over the hang limit). */
  timeMs: { truncate: number; mutate: number; hostile: number };
  peakRssGrowthMiB: number;
  /** Inputs whose RSS growth went over the line but kept no heap and stayed under budget alone. */
  rssLookedAt?: number;
}

export const emptyCounts = (): StepCounts => ({
  inputs: 0,
  truncations: 0,
  mutations: 0,
  hostile: 0,
  byOutcome: {},
  byErrorCode: {},
  crossChecked: 0,
  mutationPaths: {},
  slowestCpuMs: 0,
  slowestWallMs: 0,
  timeMs: { truncate: 0, mutate: 0, hostile: 0 },
  peakRssGrowthMiB: 0,
});

export interface StepContext {
  plan: Plan;
  byName: Map<string, SeedStream>;
  hangCpuMs: number;
  rssLimitMiB: number;
  /** Every this many truncations one is also decoded from byte 0 and must end the same. */
  crossCheckEvery: number;
}

/** A cut before the last byte, other than right after EOF (a whole stream without a description). */
export function isRealCut(
  d: Extract<Descriptor, { kind: 'truncate' }>,
  seeds: Map<string, { eof: number; bytes: Uint8Array }>,
): boolean {
  const s = seeds.get(d.stream)!;
  return d.at < s.bytes.length && d.at !== s.eof + 1;
}

/** V8's full collection, when the process may ask for it (v8.setFlagsFromString, as node --expose-gc). */
export const collectGarbage = ((): (() => void) | undefined => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
})();

/**
 * RSS and the heap in use (JS objects and buffers) after a full collection (without one, as they
 * are): a baseline without garbage in it, and what the worker keeps. The RSS does not come back
 * down after a big input (V8 and malloc keep the pages), so RSS growth only says which input to
 * look at; the heap says what is kept.
 */
function settledMemory(): { rss: number; heap: number } {
  collectGarbage?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export class StepRunner {
  readonly counts = emptyCounts();
  private baselineRss?: number;
  private baselineHeap?: number;
  private cuts?: StreamCuts;
  private readonly mutations = new Map<string, StreamMutations>();

  constructor(private readonly ctx: StepContext) {}

  private async cutsOf(name: string): Promise<StreamCuts> {
    if (this.cuts?.seed.name !== name) {
      this.cuts = undefined;
      this.cuts = await StreamCuts.of(this.ctx.byName.get(name)!);
      // The memory a stream's checkpoints and cut record hold (up to about 24 MiB of heap on a
      // rich stream, and the high-water mark of building it) is not the inputs': growth counts
      // from the RSS with this stream's record in place, as its time is not theirs either.
      this.baselineRss = undefined;
    }
    return this.cuts;
  }

  private async mutationsOf(name: string): Promise<StreamMutations> {
    let m = this.mutations.get(name);
    if (!m) this.mutations.set(name, (m = await StreamMutations.of(this.ctx.byName.get(name)!)));
    return m;
  }

  private async input(d: Descriptor): Promise<Outcome> {
    if (d.kind === 'truncate') return (await this.cutsOf(d.stream)).cut(d.at);
    if (d.kind === 'mutate') {
      const r = await (await this.mutationsOf(d.stream)).run(inputBytes(d, this.ctx.byName));
      const paths = (this.counts.mutationPaths ??= {});
      paths[r.path] = (paths[r.path] ?? 0) + 1;
      if (r.inStep) paths['in-step'] = (paths['in-step'] ?? 0) + 1;
      return r.outcome;
    }
    return runOne(inputBytes(d, this.ctx.byName), true);
  }

  /** Runs one step; failures go to `fail`. */
  async step(i: number, fail: (f: StepFailure) => void): Promise<void> {
    const { ctx, counts } = this;
    const d = ctx.plan.at(i);
    // A stream's checkpoints are not the input's time.
    if (d.kind === 'truncate') await this.cutsOf(d.stream);
    else if (d.kind === 'mutate') await this.mutationsOf(d.stream);
    const t0 = performance.now();
    let outcome = await this.input(d);
    const wall = performance.now() - t0;
    let cpu = wall;
    if (wall > ctx.hangCpuMs) {
      // Once more with its CPU time, to tell a slow input from a busy moment of the machine's.
      const c1 = cpuNow();
      outcome = await this.input(d);
      cpu = cpuNow() - c1;
    }
    counts.inputs++;
    counts.timeMs[d.kind] += cpu;
    if (d.kind === 'truncate') counts.truncations++;
    else if (d.kind === 'mutate') counts.mutations++;
    else counts.hostile++;
    counts.byOutcome[outcome.kind] = (counts.byOutcome[outcome.kind] ?? 0) + 1;
    if (outcome.kind === 'typed')
      counts.byErrorCode[outcome.code] = (counts.byErrorCode[outcome.code] ?? 0) + 1;
    counts.slowestCpuMs = Math.max(counts.slowestCpuMs, cpu);
    counts.slowestWallMs = Math.max(counts.slowestWallMs, wall);

    if (d.kind !== 'truncate' || (counts.inputs & 255) === 0) {
      const rss = process.memoryUsage.rss();
      if (counts.inputs >= 50) {
        if (this.baselineRss === undefined) {
          const settled = settledMemory();
          this.baselineRss = d.kind === 'truncate' ? settled.rss : rss;
          this.baselineHeap = settled.heap;
        }
        const growth = (rss - this.baselineRss) / 1048576;
        counts.peakRssGrowthMiB = Math.max(counts.peakRssGrowthMiB, growth);
        // Over the line: garbage not collected yet, pages V8 or malloc keep, or a blow-up? A
        // blow-up is heap still kept after a full collection, or the input alone as a process
        // over the budget.
        if (growth > ctx.rssLimitMiB) {
          const kept = (settledMemory().heap - this.baselineHeap!) / 1048576;
          const alone =
            kept > ctx.rssLimitMiB ? undefined : peakRssAlone(inputBytes(d, ctx.byName));
          if (kept > ctx.rssLimitMiB || (alone !== undefined && alone > CLI_RSS_LIMIT))
            fail({
              kind: 'memory',
              step: i,
              d,
              message:
                alone === undefined
                  ? `RSS ${(rss / 1048576).toFixed(0)} MiB, ${growth.toFixed(0)} MiB over the baseline; ${kept.toFixed(0)} MiB of heap kept after a full collection`
                  : `RSS ${(rss / 1048576).toFixed(0)} MiB, ${growth.toFixed(0)} MiB over the baseline; alone, the input peaks at ${(alone / 1048576).toFixed(0)} MiB as a process`,
            });
          else counts.rssLookedAt = (counts.rssLookedAt ?? 0) + 1;
          this.baselineRss = rss; // report the next growth, not every input after this one
        }
      }
    }

    if (outcome.kind === 'crash') fail({ kind: 'crash', step: i, d, message: outcome.message });
    else if (cpu > ctx.hangCpuMs)
      fail({
        kind: 'hang',
        step: i,
        d,
        message: `took ${wall.toFixed(0)} ms, then ${cpu.toFixed(0)} ms of CPU time`,
      });
    else if (d.kind === 'mutate' && counts.mutations % ctx.crossCheckEvery === 0) {
      // From byte 0 (runOne): the resumed walk and its early stop must end the same.
      const paths = (counts.mutationPaths ??= {});
      paths['cross-checked'] = (paths['cross-checked'] ?? 0) + 1;
      const again = await runOne(inputBytes(d, ctx.byName), true);
      if (same(again) !== same(outcome))
        fail({
          kind: 'checkpoint-mismatch',
          step: i,
          d,
          message: `from a checkpoint: ${same(outcome)}; from byte 0: ${same(again)}`,
        });
    } else if (d.kind === 'truncate') {
      if (outcome.kind === 'ok' && isRealCut(d, ctx.byName))
        fail({
          kind: 'truncation-exit-0',
          step: i,
          d,
          message: 'a truncated stream decoded without an error',
        });
      else if (counts.truncations % ctx.crossCheckEvery === 0) {
        counts.crossChecked++;
        const again = await (await this.cutsOf(d.stream)).cut(d.at, true);
        if (same(again) !== same(outcome))
          fail({
            kind: 'checkpoint-mismatch',
            step: i,
            d,
            message: `from a checkpoint: ${same(outcome)}; from byte 0: ${same(again)}`,
          });
      }
    }
  }
}

const same = (o: Outcome) =>
  o.kind === 'typed' ? `typed ${o.code} at ${o.offset}: ${o.message}` : o.kind;
