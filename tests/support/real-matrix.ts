/**
 * The real-migration matrix: real QEMU 5.2, 7.2 and 10.0 migrating to each other (every ordered
 * pair, same release included), on every machine type both have among those of the
 * real-releases issue, in each configuration, plus cells across machine types. Each cell
 * captures with the source, starts the destination with the same command line and `-incoming`,
 * records QEMU's verdict and error lines, and compares them with `vmstate predict` where the
 * catalog knows the destination. Where the destination loads, the registers it holds are
 * compared with the source's. Differences are reported, never explained away.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { predictLoad } from '../../src/predict/predict';
import { configurationNamed, writeImages } from '../../streams/configurations';
import { PLATFORMS } from '../../vmstate/platforms';
import {
  REAL_RELEASES,
  captureStreamDetailed,
  incomingFromFile,
  parseInfoRegisters,
  type CaptureOptions,
  type RealRelease,
} from './qemu';
import { failingSection, qemuErrorLines } from './qemu-verdict';

/** One configuration's QEMU options on a machine type; `imageDir` holds its disk images. */
interface MatrixConfiguration {
  options(machine: string, imageDir: string): CaptureOptions;
  /** Disk images (streams/configurations.ts) each QEMU of a cell gets its own copy of. */
  readonly images?: Readonly<Record<string, number>>;
}

const rich = (name: string): MatrixConfiguration => configurationNamed(name)!;

/**
 * The configurations of the real-releases issue: -nodefaults paused and after running, QEMU's
 * default devices, and the device-rich VM of streams/configurations.ts (-cpu max, and
 * qemu64,+svm).
 */
export const CONFIGURATIONS = {
  'nodefaults-paused': { options: () => ({}) },
  'nodefaults-running': { options: () => ({ runMs: 300 }) },
  'defaults-paused': { options: () => ({ defaultDevices: true }) },
  'rich-max': rich('rich-max'),
  'rich-svm': rich('rich-svm'),
} as const satisfies Record<string, MatrixConfiguration>;
export type Configuration = keyof typeof CONFIGURATIONS;

/** The configuration's options for one QEMU of a cell, its disk images written into `imageDir`. */
function configurationOptions(
  configuration: Configuration,
  machine: string,
  imageDir: string,
): CaptureOptions {
  const c: MatrixConfiguration = CONFIGURATIONS[configuration];
  if (c.images) writeImages(c, imageDir);
  return c.options(machine, imageDir);
}

const num = (v: string) => v.split('.').map(Number);
const versionLe = (a: string, b: string) => {
  const [x, y] = [num(a), num(b)];
  return x[0] < y[0] || (x[0] === y[0] && (x[1] ?? 0) <= (y[1] ?? 0));
};
const versionOf = (machine: string) => machine.replace(/^pc-(q35|i440fx)-/, '');

/** The machine types of the real-releases issue: each release's newest pc and q35, and four older ones. */
export const ISSUE_MACHINES: readonly string[] = [
  ...REAL_RELEASES.flatMap((r) => [`pc-i440fx-${r}`, `pc-q35-${r}`]),
  'pc-q35-7.2',
  'pc-q35-5.2',
  'pc-i440fx-4.2',
  'pc-q35-3.1',
].filter((m, i, all) => all.indexOf(m) === i);

/** Whether a real release has a machine type (QEMU keeps every older pc/q35 version these releases list). */
export const hasMachine = (release: RealRelease, machine: string): boolean =>
  versionLe(versionOf(machine), release);

/** The source machine type of the cells across machine types (every release has it, none is it). */
export const ACROSS_SOURCE = 'pc-q35-3.1';

export interface MatrixCell {
  readonly id: string;
  readonly from: RealRelease;
  readonly to: RealRelease;
  /** The source's -machine. */
  readonly sourceMachine: string;
  /** The destination's -machine (differs from the source's in the cells across machine types). */
  readonly machine: string;
  readonly configuration: Configuration;
}

export interface MatrixSelection {
  readonly releases?: readonly RealRelease[];
  readonly configurations?: readonly Configuration[];
  /** Keep only these machine types (of the pairs' common ones). */
  readonly machines?: readonly string[];
  /** Add, for every ordered pair, a cell from pc-q35-3.1 to the destination's newest q35. */
  readonly acrossMachines?: boolean;
}

export function matrixCells(sel: MatrixSelection = {}): MatrixCell[] {
  const rels = sel.releases ?? REAL_RELEASES;
  const configs = sel.configurations ?? (Object.keys(CONFIGURATIONS) as Configuration[]);
  const cells: MatrixCell[] = [];
  const add = (c: Omit<MatrixCell, 'id'>) =>
    cells.push({
      ...c,
      id: `${c.from}@${c.sourceMachine} -> ${c.to}@${c.machine} (${c.configuration})`,
    });
  for (const configuration of configs)
    for (const from of rels)
      for (const to of rels) {
        for (const m of ISSUE_MACHINES)
          if (
            hasMachine(from, m) &&
            hasMachine(to, m) &&
            (!sel.machines || sel.machines.includes(m))
          )
            add({ from, to, sourceMachine: m, machine: m, configuration });
        if (sel.acrossMachines ?? true)
          add({ from, to, sourceMachine: ACROSS_SOURCE, machine: `pc-q35-${to}`, configuration });
      }
  return cells;
}

/**
 * The slice CI runs (tests/real-matrix.test.ts without VMSTATE_FULL=1, real-matrix.sh
 * --reduced): the three configurations without the device-rich VM on pc-q35-5.2, pc-q35-7.2 and
 * pc-i440fx-7.2 with the cells across machine types, and the device-rich VM (-cpu max) on
 * pc-q35-5.2 for every ordered pair.
 */
export const REDUCED: readonly MatrixSelection[] = [
  {
    machines: ['pc-q35-5.2', 'pc-q35-7.2', 'pc-i440fx-7.2'],
    configurations: ['nodefaults-paused', 'nodefaults-running', 'defaults-paused'],
  },
  { machines: ['pc-q35-5.2'], configurations: ['rich-max'], acrossMachines: false },
];

/** The cells of several selections, each once. */
export function selectionCells(sels: readonly MatrixSelection[]): MatrixCell[] {
  const seen = new Set<string>();
  return sels
    .flatMap((s) => matrixCells(s))
    .filter((c) => !seen.has(c.id) && (seen.add(c.id), true));
}

/** Cells K of N (1-based), so CI jobs can share the matrix. */
export function shard(cells: readonly MatrixCell[], k: number, n: number): MatrixCell[] {
  return cells.filter((_, i) => i % n === k - 1);
}

export type Prediction =
  | {
      readonly status: 'predicted';
      readonly outcome: 'ok' | 'refused' | 'lossy';
      readonly section?: string;
      readonly lines: readonly string[];
    }
  | {
      readonly status: 'not-predicted';
      readonly why: string;
      /** Sections the catalog cannot load (the release has them, the catalog lacks their description). */
      readonly undescribed?: readonly string[];
      /** What predict says beyond them: ok, or the refusal it would reach if they load. */
      readonly beyond?: { readonly outcome: 'ok' | 'refused' | 'lossy'; readonly section?: string };
    };

export interface CellReport {
  readonly cell: MatrixCell;
  readonly reality: {
    readonly outcome: 'ok' | 'refused';
    readonly section?: string;
    readonly lines: readonly string[];
  };
  readonly prediction: Prediction;
  /** Predicted and equal to reality (outcome, and the first failing section); undefined when not predicted. */
  readonly agrees?: boolean;
  /** Where the destination loaded: the register values that differ from the source's (none: equal). */
  readonly registers?: { readonly compared: number; readonly differing: readonly string[] };
  readonly seconds: number;
}

export interface MatrixReport {
  readonly cells: readonly CellReport[];
  readonly migrations: number;
  readonly seconds: number;
  readonly concurrency: number;
  readonly shard?: string;
}

/** Whether the catalog can predict a destination: a real release's catalog on that machine type. */
export function catalogPredicts(release: string, machine: string): boolean {
  return PLATFORMS.kindOf(release) === 'real' && PLATFORMS.machineTypes(release).includes(machine);
}

interface Captured {
  readonly path: string;
  readonly registers?: string;
}

/** Runs the cells, `concurrency` QEMUs at a time; each source stream is captured once. */
export async function runRealMatrix(
  cells: readonly MatrixCell[],
  opts: {
    concurrency?: number;
    dir?: string;
    shard?: string;
    onCell?: (r: CellReport) => void;
  } = {},
): Promise<MatrixReport> {
  const started = Date.now();
  const concurrency = opts.concurrency ?? os.cpus().length;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-real-matrix-'));
  const captures = new Map<string, Promise<Captured>>();
  const capture = (c: MatrixCell): Promise<Captured> => {
    const key = `${c.from}-${c.sourceMachine}-${c.configuration}`;
    let p = captures.get(key);
    if (!p) {
      p = captureStreamDetailed({
        ...configurationOptions(c.configuration, c.sourceMachine, path.join(dir, `${key}.images`)),
        release: c.from,
        machine: c.sourceMachine,
        readRegisters: true,
        out: path.join(dir, `${key}.mig`),
        timeoutMs: 120_000,
      }).then((r) => ({ path: r.path, registers: r.registers }));
      captures.set(key, p);
    }
    return p;
  };
  const reports: CellReport[] = new Array<CellReport>(cells.length);
  let next = 0;
  const worker = async () => {
    while (next < cells.length) {
      const i = next++;
      reports[i] = await runCell(cells[i], capture, path.join(dir, `cell-${i}.images`));
      opts.onCell?.(reports[i]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  } finally {
    if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  return {
    cells: reports,
    migrations: reports.length,
    seconds: (Date.now() - started) / 1000,
    concurrency,
    shard: opts.shard,
  };
}

async function runCell(
  cell: MatrixCell,
  capture: (c: MatrixCell) => Promise<Captured>,
  imageDir: string,
): Promise<CellReport> {
  const t0 = Date.now();
  const src = await capture(cell);
  // The destination's command line is the source's (with its own copy of the disk images).
  const { runMs: _runMs, ...machineOptions } = configurationOptions(
    cell.configuration,
    cell.machine,
    imageDir,
  );
  const real = await incomingFromFile(src.path, {
    ...machineOptions,
    release: cell.to,
    machine: cell.machine,
    timeoutMs: 120_000,
  });
  fs.rmSync(imageDir, { recursive: true, force: true });
  let registers: CellReport['registers'];
  let reality: CellReport['reality'];
  if (real.ok) {
    try {
      registers = compareRegisters(src.registers, (await real.vm.registers(0)).raw);
    } finally {
      await real.vm.close();
    }
    reality = { outcome: 'ok', lines: [] };
  } else {
    const lines = qemuErrorLines(real.error);
    reality = { outcome: 'refused', lines, section: failingSection(lines) };
  }
  let prediction: Prediction;
  if (!catalogPredicts(cell.to, cell.machine))
    prediction = {
      status: 'not-predicted',
      why: PLATFORMS.kindOf(cell.to)
        ? `machine type ${cell.machine} unknown to the catalog of ${cell.to}`
        : 'release unknown to the catalog',
    };
  else {
    const p = await predictLoad(
      new Uint8Array(fs.readFileSync(src.path)),
      PLATFORMS.platform(cell.to, cell.machine),
    );
    if (p.outcome === 'unknown') {
      const undescribed = [...new Set(p.undescribed!.map((u) => u.section))];
      prediction = {
        status: 'not-predicted',
        why: `the catalog of ${cell.to} has no description of ${undescribed.length} section(s): ${undescribed.join(', ')}`,
        undescribed,
        beyond: p.refusal
          ? { outcome: 'refused', section: p.refusal.section }
          : { outcome: p.losses.length ? 'lossy' : 'ok' },
      };
    } else
      prediction = {
        status: 'predicted',
        outcome: p.outcome,
        section: p.refusal?.section,
        lines: p.refusal?.lines ?? [],
      };
  }
  const agrees =
    prediction.status === 'predicted'
      ? (prediction.outcome === 'refused') === (reality.outcome === 'refused') &&
        prediction.section === reality.section
      : undefined;
  return { cell, reality, prediction, agrees, registers, seconds: (Date.now() - t0) / 1000 };
}

/**
 * The register values of `info registers` that differ between source and destination. Releases
 * print different sets of registers, so the values both print are compared; their count is
 * reported so a comparison of nothing cannot pass unseen.
 */
export function compareRegisters(
  source: string | undefined,
  destination: string,
): { compared: number; differing: string[] } {
  if (!source) return { compared: 0, differing: ['source registers were not read'] };
  const a = parseInfoRegisters(source);
  const b = parseInfoRegisters(destination);
  const differing: string[] = [];
  let compared = 0;
  for (const [k, v] of Object.entries(a.values)) {
    if (!(k in b.values)) continue;
    compared++;
    if (b.values[k] !== v) differing.push(`${k}: ${v.toString(16)} -> ${b.values[k].toString(16)}`);
  }
  for (const [k, s] of Object.entries(a.segments)) {
    const t = b.segments[k];
    if (!t) continue;
    compared++;
    if (JSON.stringify(s, bigintJson) !== JSON.stringify(t, bigintJson))
      differing.push(`segment ${k}`);
  }
  return { compared, differing };
}

const bigintJson = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v);

/** The report as JSON text (bigints as hex strings). */
export function matrixJson(r: MatrixReport): string {
  return `${JSON.stringify(r, bigintJson, 2)}\n`;
}
