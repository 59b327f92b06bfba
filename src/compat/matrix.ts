/**
 * The compatibility matrix: the migration property (see expect.ts) over release x release x
 * machine type, with the same random VMs in every cell. Each VM is migrated across the whole
 * matrix at once, so what a source writes and what a release loads is computed once per VM
 * (MigrationCache). A cell that breaks the property is run again as a fast-check property with
 * the same seed, which finds the failure and shrinks it to a small counterexample.
 */
import * as fc from 'fast-check';
import type { Release } from '../../vmstate/releases/types';
import { compareVersions } from '../../vmstate/x86/versions';
import { expectedOutcome, violation, type Expectation } from './expect';
import {
  migrate,
  MigrationCache,
  OUTCOME_KINDS,
  type MigrationOutcome,
  type OutcomeKind,
} from './migrate';
import { arbitraryVm, type GeneratedVm } from './vm-arbitrary';

export type Direction = 'backward' | 'forward' | 'same';

export interface Cell {
  readonly from: Release;
  readonly to: Release;
  readonly machine: string;
  /** backward: older release to newer (upgrade); forward: newer to older (on the older machine type). */
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
  /** The VMs (default: arbitraryVm over every release in the matrix). */
  readonly vms?: fc.Arbitrary<GeneratedVm>;
}

export interface MatrixResult {
  readonly cells: CellResult[];
  readonly runs: number;
  readonly seed: number;
  readonly migrations: number;
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

export function directionOf(a: Release, b: Release): Direction {
  // A release that follows another (our `next` after 7.2) sits right after it: it is a fork of
  // that release, not newer than the real releases that came later.
  const line = (r: Release) => r.cpuFeatures.subsectionsOf ?? r.cpuFeatures.version;
  const c =
    compareVersions(line(a), line(b)) ||
    compareVersions(a.cpuFeatures.version, b.cpuFeatures.version);
  return c < 0 ? 'backward' : c > 0 ? 'forward' : 'same';
}

export function matrixCells(opts: Pick<MatrixOptions, 'from' | 'to' | 'machines'>): Cell[] {
  const out: Cell[] = [];
  for (const a of opts.from)
    for (const b of opts.to)
      for (const machine of machinesFor(a, b, opts.machines))
        out.push({ from: a, to: b, machine, direction: directionOf(a, b) });
  return out;
}

/** One migration of the property: its outcome, what was due, and the violation if any. */
export function checkMigration(vm: GeneratedVm, cell: Cell, cache = new MigrationCache(vm)) {
  const from = { release: cell.from, machine: cell.machine };
  const outcome = migrate(vm, from, { release: cell.to }, cache);
  const expected = expectedOutcome(
    cache,
    from,
    { release: cell.to },
    cell.direction === 'backward',
  );
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
  const vms = opts.vms ?? arbitraryVm({ releases: releasesInMatrix });
  const results: (CellResult & {
    counts: Record<OutcomeKind, number>;
    reasons: Record<string, number>;
    notes: number;
    violations: number;
  })[] = cells.map((c) => ({
    ...c,
    counts: Object.fromEntries(OUTCOME_KINDS.map((k) => [k, 0])) as Record<OutcomeKind, number>,
    reasons: {},
    notes: 0,
    violations: 0,
  }));
  const samples = fc.sample(vms, { numRuns: opts.runs, seed });
  samples.forEach((vm, i) => {
    const cache = new MigrationCache(vm);
    for (const cell of results) {
      const r = checkMigration(vm, cell, cache);
      cell.counts[r.outcome.kind]++;
      if (r.outcome.kind === 'refused') {
        const k = `${r.outcome.refusal.side}:${r.outcome.refusal.reason}`;
        cell.reasons[k] = (cell.reasons[k] ?? 0) + 1;
      }
      if (r.outcome.kind === 'ok' && r.outcome.notes.length) cell.notes++;
      if (r.violation) {
        cell.violations++;
        if (!cell.counterexample)
          cell.counterexample = { vm, ...r, violation: r.violation, shrinks: 0, seed };
      }
    }
    opts.onProgress?.(i + 1, samples.length);
  });
  const migrationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (opts.shrink !== false)
    for (const cell of results)
      if (cell.violations)
        cell.counterexample =
          shrinkCell(cell, vms, opts.runs, seed, opts.shrinkTimeMs) ?? cell.counterexample;
  return {
    cells: results,
    runs: opts.runs,
    seed,
    migrations: samples.length * cells.length,
    migrationSeconds,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}
