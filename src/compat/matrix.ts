/**
 * The compatibility matrix: the migration property (see expect.ts) over release x release x
 * machine type, with the same random VMs in every cell. Each VM is migrated across the whole
 * matrix at once, so what a source writes and what a release loads is computed once per VM
 * (MigrationCache). A cell that breaks the property is run again as a fast-check property with
 * the same seed, which finds the failure and shrinks it to a small counterexample.
 */
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expectedOutcome, violation, type Expectation } from './expect';
import {
  addChunks,
  freshCellTally,
  newQueue,
  QUEUE_DONE,
  sampleRange,
  takeChunks,
  type CellTally,
} from './matrix-chunks';
import { runOnWorkers } from './matrix-pool';
import {
  migrate,
  MigrationCache,
  type MigrationOutcome,
  type GeneratedVm,
  type OutcomeKind,
} from './migrate';
import type { Platform } from './platform';
import type { Release } from './release';

export type Direction = 'forward' | 'backward' | 'same';

export interface Cell {
  readonly from: Release;
  readonly to: Release;
  readonly machine: string;
  /** forward: older release to newer (upgrade); backward: newer to older (on the older machine type). */
  readonly direction: Direction;
}

export interface Counterexample {
  readonly vm: GeneratedVm;
  readonly outcome: MigrationOutcome;
  readonly expected: Expectation;
  readonly violation: string;
  /** How many shrink steps fast-check took from the first failure found. */
  readonly shrinks: number;
  readonly seed: number;
}

export interface CellResult extends Cell {
  readonly counts: Readonly<Record<OutcomeKind, number>>;
  /** Refusal reasons by count (`destination:unknown-subsection`, `source:blocker`...). */
  readonly reasons: Readonly<Record<string, number>>;
  /** ok outcomes that carry a note (state the source itself never sends). */
  readonly notes: number;
  readonly violations: number;
  counterexample?: Counterexample;
}

export interface MatrixOptions {
  /** What the releases run on: how they are ordered and how random VMs are made. */
  readonly platform: Platform;
  readonly from: readonly Release[];
  readonly to: readonly Release[];
  /** 'newest' (default): per machine family, the newest machine type both know; 'all': every one both know; or names. */
  readonly machines?: 'newest' | 'all' | readonly string[];
  /** VMs per cell. */
  readonly runs: number;
  readonly seed?: number;
  /** Shrink a counterexample for each failing cell (default true). */
  readonly shrink?: boolean;
  /** Time limit of each cell's shrinking, in ms (default 2000). */
  readonly shrinkTimeMs?: number;
  /** Called after each VM went through every cell. */
  readonly onProgress?: (done: number, total: number) => void;
  /** The VMs (default: the platform's arbitraryVm over every release in the matrix). */
  readonly vms?: fc.Arbitrary<GeneratedVm>;
  /** Threads to migrate on, this one included (default: every core; 1 runs everything here). */
  readonly workers?: number;
}

export interface MatrixResult {
  readonly cells: CellResult[];
  readonly runs: number;
  readonly seed: number;
  readonly migrations: number;
  /** Threads the migrations ran on, this one included. */
  readonly threads: number;
  /** Time of the migrations (VM generation included), then of the whole run (shrinking included). */
  readonly migrationSeconds: number;
  readonly seconds: number;
}

const family = (machine: string): string => machine.replace(/-[^-]+$/, '');

/** The machine types a cell uses for a pair. */
export function machinesFor(
  a: Release,
  b: Release,
  which: MatrixOptions['machines'] = 'newest',
): string[] {
  if (Array.isArray(which)) return [...which];
  const common = a.machineTypes
    .filter((m) => b.machineTypes.some((x) => x.name === m.name))
    .map((m) => m.name);
  if (which === 'all') return common;
  const seen = new Set<string>();
  return common.filter((m) => !seen.has(family(m)) && seen.add(family(m)));
}

export function directionOf(platform: Platform, a: Release, b: Release): Direction {
  const c = platform.compareReleases(a, b);
  return c < 0 ? 'forward' : c > 0 ? 'backward' : 'same';
}

export function matrixCells(
  opts: Pick<MatrixOptions, 'platform' | 'from' | 'to' | 'machines'>,
): Cell[] {
  const out: Cell[] = [];
  for (const a of opts.from)
    for (const b of opts.to)
      for (const machine of machinesFor(a, b, opts.machines))
        out.push({ from: a, to: b, machine, direction: directionOf(opts.platform, a, b) });
  return out;
}

/** One migration of the property: its outcome, what was due, and the violation if any. */
export function checkMigration(vm: GeneratedVm, cell: Cell, cache = new MigrationCache(vm)) {
  const from = { release: cell.from, machine: cell.machine };
  const outcome = migrate(vm, from, { release: cell.to }, cache);
  const expected = expectedOutcome(cache, from, { release: cell.to }, cell.direction === 'forward');
  return { outcome, expected, violation: violation(outcome, expected) };
}

/** The property of one cell, for fast-check (throws the violation). */
export function cellProperty(cell: Cell, vms: fc.Arbitrary<GeneratedVm>) {
  return fc.property(vms, (vm) => {
    const r = checkMigration(vm, cell);
    if (r.violation) throw new Error(r.violation);
  });
}

/** Runs a cell's property with fast-check and returns its shrunk counterexample, if it fails. */
export function shrinkCell(
  cell: Cell,
  vms: fc.Arbitrary<GeneratedVm>,
  runs: number,
  seed: number,
  timeLimitMs = 2000,
): Counterexample | undefined {
  // Shrinking stops at the time limit with the smallest failure found so far.
  const details = fc.check(cellProperty(cell, vms), {
    numRuns: runs,
    seed,
    interruptAfterTimeLimit: timeLimitMs,
  });
  if (!details.failed || !details.counterexample) return undefined;
  const [vm] = details.counterexample;
  const r = checkMigration(vm, cell);
  return {
    vm,
    outcome: r.outcome,
    expected: r.expected,
    violation: r.violation ?? String(details.errorInstance),
    shrinks: details.numShrinks,
    seed,
  };
}

export function runMatrix(opts: MatrixOptions): MatrixResult {
  const started = process.hrtime.bigint();
  const seed = opts.seed ?? 42;
  const cells = matrixCells(opts);
  const releasesInMatrix = [...new Set([...opts.from, ...opts.to])];
  const vms = opts.vms ?? opts.platform.arbitraryVm(releasesInMatrix);
  const queue = newQueue();
  // Every core: the workers start first (they load their modules meanwhile), then every thread
  // takes chunks of VMs from the queue until none is left; the tallies are added in chunk order.
  const parallel = parallelPlan(opts, cells.length);
  const workers = parallel?.start(queue, seed);
  const report = opts.onProgress && (() => opts.onProgress!(queue[QUEUE_DONE], opts.runs));
  const parts = takeChunks(
    queue,
    opts.runs,
    cells.length,
    (lo, hi) => sampleRange(vms, seed, lo, hi),
    (vm, index, into) => tallyVm(vm, index, cells, into),
    report,
  );
  if (workers) parts.push(...workers.wait(report));
  const results = cells.map((c) => ({ ...c, ...freshCellTally() }));
  addChunks(parts, results);
  const out: CellResult[] = results.map(({ firstViolation, ...cell }) => {
    if (firstViolation === undefined) return cell;
    const [vm] = sampleRange(vms, seed, firstViolation, firstViolation + 1);
    const r = checkMigration(vm, cell);
    return {
      ...cell,
      counterexample: { vm, ...r, violation: r.violation ?? 'violation', shrinks: 0, seed },
    };
  });
  if (workers) report?.();
  const migrationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (opts.shrink !== false)
    for (const cell of out)
      if (cell.violations)
        cell.counterexample =
          shrinkCell(cell, vms, opts.runs, seed, opts.shrinkTimeMs) ?? cell.counterexample;
  return {
    cells: out,
    runs: opts.runs,
    seed,
    migrations: opts.runs * cells.length,
    threads: 1 + (parallel?.workers ?? 0),
    migrationSeconds,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}

/** Migrates one VM through every cell, adding to the cells' tallies. */
export function tallyVm(
  vm: GeneratedVm,
  index: number,
  cells: readonly Cell[],
  into: CellTally[],
): void {
  const cache = new MigrationCache(vm);
  for (let c = 0; c < cells.length; c++) {
    const r = checkMigration(vm, cells[c], cache);
    const t = into[c];
    t.counts[r.outcome.kind]++;
    if (r.outcome.kind === 'refused') {
      const k = `${r.outcome.refusal.side}:${r.outcome.refusal.reason}`;
      t.reasons[k] = (t.reasons[k] ?? 0) + 1;
    }
    if (r.outcome.kind === 'ok' && r.outcome.notes.length) t.notes++;
    if (r.violation) {
      t.violations++;
      t.firstViolation ??= index;
    }
  }
}

/** Below this many migrations, starting workers costs more than it saves. */
const PARALLEL_MIN_MIGRATIONS = 20_000;

/**
 * Whether (and with how many extra threads) the matrix can run on every core: only for the
 * platform's own releases and the default VMs, which a worker rebuilds from the platform's
 * module, the releases' names and the seed,
 * and only from compiled code (the worker is dist/src/compat/matrix-worker.js).
 */
function parallelPlan(opts: MatrixOptions, cellCount: number) {
  const workers = (opts.workers ?? os.availableParallelism()) - 1;
  if (workers < 1 || opts.vms || opts.runs * cellCount < PARALLEL_MIN_MIGRATIONS) return undefined;
  const script = [
    path.join(__dirname, 'matrix-worker.js'),
    path.join(__dirname, 'src', 'compat', 'matrix-worker.js'),
  ].find((f) => fs.existsSync(f));
  if (!script) return undefined;
  const module = opts.platform.workerModule;
  if (!module) return undefined;
  const named = (list: readonly Release[]) =>
    list.every((r) => opts.platform.releaseNamed?.(r.name) === r)
      ? list.map((r) => r.name)
      : undefined;
  const from = named(opts.from);
  const to = named(opts.to);
  if (!from || !to) return undefined;
  return {
    workers,
    start: (queue: Int32Array, seed: number) =>
      runOnWorkers(script, module, workers, {
        from,
        to,
        machines: opts.machines,
        runs: opts.runs,
        seed,
        queue,
      }),
  };
}
