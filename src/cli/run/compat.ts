/**
 * The body of `vmstate compat` (src/cli/commands/compat.ts parses the options): the migration
 * property over a release x release x machine-type matrix, as a text table, JSON or an HTML
 * heatmap, with a shrunk counterexample and its reproduction files for every failing cell.
 */
import * as fs from 'fs';
import { BREAK_SENTENCE } from '../../compat/expect';
import { UsageError } from '../../errors';
import { checkOutputPath, writeFileAtomically } from '../../stream/atomic-file';
import { readInputFile } from './input';
import { RELEASE_NAMES, releases } from '../../../vmstate/releases';
import { StateJsonError, vmStateFromJson } from '../../../vmstate/releases/state-json';
import type { Release } from '../../../vmstate/releases/types';
import { cpuResetState } from '../../../vmstate/x86/reset';
import type { X86Ctx } from '../../../vmstate/x86/ctx';
import { initialState } from '../../engine/state';
import type { State } from '../../dsl/kind';
import { renderMatrixHtml } from '../../compat/html';
import {
  checkMigration,
  matrixCells,
  runMatrix,
  type CellResult,
  type MatrixOptions,
  type MatrixResult,
} from '../../compat/matrix';
import { formatOutcome } from '../../compat/migrate';
import { reproDir, writeRepro, type ReproFiles } from '../../compat/repro';
import { x86Platform } from '../../../vmstate/platform';
import { BadInputFile, reportBadInput, resolveRelease } from './resolve';

export interface CompatCliOptions {
  readonly from?: string[];
  readonly to?: string[];
  readonly design?: string[];
  readonly machine?: string[];
  readonly runs?: string;
  readonly seed?: string;
  readonly json?: boolean;
  readonly html?: string;
  readonly state?: string;
  readonly shrink?: boolean;
  readonly shrinkTime?: string;
}

const int = (v: string | undefined, name: string, dflt: number, min = 0): number => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`compat: ${name} must be a whole number >= ${min} (got '${v}')`);
  return n;
};

/** The releases a list of names/paths stands for, in order, without duplicates. */
function releaseList(specs: readonly string[], what: string): Release[] {
  const out: Release[] = [];
  for (const s of specs.flatMap((x) => x.split(',')).filter(Boolean)) {
    const r = resolveRelease(s, what);
    if (!out.includes(r)) out.push(r);
  }
  return out;
}

export async function runCompat(opts: CompatCliOptions): Promise<number> {
  if (opts.json && opts.html) throw new UsageError('compat: give --json or --html FILE, not both');
  if (opts.html) checkOutputPath(opts.html, 'file');
  const runs = int(opts.runs, '--runs', 100, 1);
  const seed = int(opts.seed, '--seed', 42);
  const shrinkTimeMs = int(opts.shrinkTime, '--shrink-time', 2000);
  let from: Release[];
  let to: Release[];
  try {
    const builtin = RELEASE_NAMES.map((n) => releases[n]);
    const extra = releaseList(opts.design ?? [], 'compat --design');
    from = opts.from?.length ? releaseList(opts.from, 'compat --from') : [...builtin];
    to = opts.to?.length ? releaseList(opts.to, 'compat --to') : [...builtin];
    for (const d of extra) {
      if (!from.includes(d)) from.push(d);
      if (!to.includes(d)) to.push(d);
    }
  } catch (e) {
    if (e instanceof BadInputFile) return reportBadInput(e);
    throw e;
  }
  const machines: MatrixOptions['machines'] =
    !opts.machine?.length || (opts.machine.length === 1 && opts.machine[0] === 'newest')
      ? 'newest'
      : opts.machine.length === 1 && opts.machine[0] === 'all'
        ? 'all'
        : opts.machine.flatMap((m) => m.split(',')).filter(Boolean);
  if (Array.isArray(machines)) {
    // A machine type no chosen release has is a usage error, not a matrix of refusals.
    const known = new Set([...from, ...to].flatMap((r) => r.machineTypes.map((m) => m.name)));
    const unknown = machines.filter((m) => !known.has(m));
    if (unknown.length)
      throw new UsageError(
        `compat: unknown machine type ${unknown.map((m) => `'${m}'`).join(', ')} (known: ${[...known].slice(0, 6).join(', ')}, ...; or newest, all)`,
      );
  }
  const cells = matrixCells({ platform: x86Platform, from, to, machines });
  if (cells.length === 0)
    throw new UsageError('compat: no cell to run (no machine type both releases of any pair know)');

  if (opts.state) return runOneVm(opts.state, cells, opts);

  const bar = progressBar(runs);
  let result: MatrixResult;
  try {
    result = runMatrix({
      platform: x86Platform,
      from,
      to,
      machines,
      runs,
      seed,
      shrink: opts.shrink !== false,
      shrinkTimeMs,
      onProgress: bar?.update,
    });
  } finally {
    bar?.stop();
  }
  const failing = result.cells.filter((c) => c.violations > 0);
  const repro = new Map<CellResult, ReproFiles>();
  if (failing.length) {
    const dir = reproDir();
    for (const c of failing)
      if (c.counterexample) repro.set(c, writeRepro(x86Platform, c, c.counterexample, dir));
  }
  const command = [
    'vmstate compat',
    ...(opts.from?.length ? ['--from', ...opts.from] : []),
    ...(opts.to?.length ? ['--to', ...opts.to] : []),
    ...(opts.design ?? []).flatMap((d) => ['--design', d]),
    ...(opts.machine?.length ? ['--machine', ...opts.machine] : []),
    `--runs ${runs} --seed ${seed}`,
  ].join(' ');
  if (opts.html) {
    const page = renderMatrixHtml(result, {
      title: 'VMState compatibility matrix',
      command,
      repro,
    });
    if (opts.html === '-') {
      process.stdout.write(page);
      return failing.length ? 1 : 0;
    }
    try {
      await writeFileAtomically(opts.html, async (fd) => void fs.writeSync(fd, page));
    } catch (e) {
      throw new UsageError(`compat: cannot write ${opts.html}: ${(e as Error).message}`);
    }
    process.stderr.write(
      `vmstate: compat: wrote ${opts.html} (${result.cells.length} cells, ${failing.length} breaking the property)\n`,
    );
  } else if (opts.json)
    process.stdout.write(`${JSON.stringify(matrixJson(result, repro), null, 2)}\n`);
  else process.stdout.write(formatMatrix(result, repro, command));
  return failing.length ? 1 : 0;
}

/** `--state FILE`: one VM (a reproduction's state file) through every cell, one line each. */
function runOneVm(
  file: string,
  cells: ReturnType<typeof matrixCells>,
  opts: CompatCliOptions,
): number {
  let json: unknown;
  try {
    json = JSON.parse(readInputFile(file, '--state'));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    return reportBadInput(new BadInputFile(file, `${file}: ${(e as Error).message}`));
  }
  const r = cells[0].from;
  const base = (section: string, ctx: X86Ctx): State => {
    if (section === 'cpu') return cpuResetState(ctx) as State;
    const c = r.catalog.find((x) => x.name === section);
    return c ? (initialState(c.vmsd) as State) : {};
  };
  let vm;
  try {
    const f = vmStateFromJson(json, x86Platform.stateDescOf(r), base);
    vm = { base: file, ctx: f.ctx, state: f.sections };
  } catch (e) {
    if (e instanceof StateJsonError)
      return reportBadInput(new BadInputFile(file, `${file}: ${e.message}`));
    throw e;
  }
  let broken = 0;
  const out: unknown[] = [];
  for (const cell of cells) {
    const res = checkMigration(vm, cell);
    if (res.violation) broken++;
    if (opts.json)
      out.push({
        from: cell.from.name,
        to: cell.to.name,
        machine: cell.machine,
        direction: cell.direction,
        outcome: res.outcome,
        violation: res.violation,
      });
    else
      process.stdout.write(
        `${cell.from.name} -> ${cell.to.name} on ${cell.machine}: ${formatOutcome(res.outcome)}${res.violation ? `\n  BREAKS THE PROPERTY: ${res.violation}` : ''}\n`,
      );
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return broken ? 1 : 0;
}

function progressBar(total: number): { update: (n: number) => void; stop: () => void } | undefined {
  if (!process.stderr.isTTY) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cliProgress = require('cli-progress') as typeof import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'compat [{bar}] {value}/{total} VMs through every cell | {eta_formatted} left',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (n) => bar.update(n), stop: () => bar.stop() };
}

export function matrixJson(
  result: MatrixResult,
  repro: ReadonlyMap<CellResult, ReproFiles> = new Map(),
) {
  return {
    runs: result.runs,
    seed: result.seed,
    migrations: result.migrations,
    migrationSeconds: Number(result.migrationSeconds.toFixed(3)),
    seconds: Number(result.seconds.toFixed(3)),
    cells: result.cells.map((c) => ({
      from: c.from.name,
      to: c.to.name,
      machine: c.machine,
      direction: c.direction,
      counts: c.counts,
      reasons: c.reasons,
      okWithNotes: c.notes,
      violations: c.violations,
      counterexample: c.counterexample && {
        violation: c.counterexample.violation,
        outcome: c.counterexample.outcome,
        summary: formatOutcome(c.counterexample.outcome),
        scenario: c.counterexample.vm.base,
        shrinks: c.counterexample.shrinks,
        repro: repro.get(c),
      },
    })),
  };
}

const family = (machine: string) => machine.replace(/-[^-]+$/, '');

/** Text tables, one per machine-type family: `ok/refused` per cell, `!` where the property breaks. */
export function formatMatrix(
  result: MatrixResult,
  repro: ReadonlyMap<CellResult, ReproFiles>,
  command: string,
): string {
  const rows = [...new Set(result.cells.map((c) => c.from.name))];
  const cols = [...new Set(result.cells.map((c) => c.to.name))];
  const fams = [...new Set(result.cells.map((c) => family(c.machine)))];
  const sum = (k: 'ok' | 'refused' | 'lossy' | 'crash') =>
    result.cells.reduce((n, c) => n + c.counts[k], 0);
  const failing = result.cells.filter((c) => c.violations > 0);
  const lines = [
    `${command}: ${result.cells.length} cells x ${result.runs} VMs (seed ${result.seed}) = ${result.migrations} migrations in ${result.migrationSeconds.toFixed(1)} s` +
      (result.seconds - result.migrationSeconds >= 0.1
        ? ` (then ${(result.seconds - result.migrationSeconds).toFixed(1)} s shrinking)`
        : ''),
    `outcomes: ok ${sum('ok')}, refused ${sum('refused')}, lossy ${sum('lossy')}, crash ${sum('crash')}; ${failing.length} cell(s) break the property`,
    result.cells.some((c) =>
      result.cells.some(
        (d) =>
          d !== c && d.from === c.from && d.to === c.to && family(d.machine) === family(c.machine),
      ),
    )
      ? 'cells: ok/refused summed over every machine type of the family both releases know; ! = breaks the property; rows: from, columns: to'
      : 'cells: ok/refused on one machine type per family (--machine, or the newest both releases know); ! = breaks the property; rows: from, columns: to',
  ];
  const w = Math.max(9, ...cols.map((c) => c.length + 1));
  const rw = Math.max(6, ...rows.map((r) => r.length + 1));
  for (const fam of fams) {
    lines.push('', `${fam}:`, `${'from\\to'.padEnd(rw)}${cols.map((c) => c.padStart(w)).join('')}`);
    for (const r of rows) {
      const tds = cols.map((t) => {
        const cs = result.cells.filter(
          (c) => c.from.name === r && c.to.name === t && family(c.machine) === fam,
        );
        if (cs.length === 0) return '-'.padStart(w);
        const ok = cs.reduce((n, c) => n + c.counts.ok, 0);
        const bad = cs.reduce((n, c) => n + c.counts.refused + c.counts.lossy + c.counts.crash, 0);
        return `${cs.some((c) => c.violations) ? '!' : ''}${ok}/${bad}`.padStart(w);
      });
      lines.push(`${r.padEnd(rw)}${tds.join('')}`);
    }
  }
  if (failing.length) {
    lines.push(
      '',
      BREAK_SENTENCE,
      'cells that break the property (one shrunk counterexample each):',
    );
    for (const c of failing) {
      const cx = c.counterexample;
      lines.push(
        `  ${c.from.name} -> ${c.to.name} on ${c.machine} (${c.direction}): ${c.violations}/${result.runs} VMs`,
      );
      if (cx) {
        lines.push(
          `    ${cx.violation}`,
          `    outcome: ${formatOutcome(cx.outcome)}`,
          `    scenario ${cx.vm.base}, ${cx.shrinks} shrink steps`,
        );
        const files = repro.get(c);
        if (files)
          lines.push(
            `    reproduction: ${files.stream ?? '(no stream: the source refuses)'} ${files.state}`,
          );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
