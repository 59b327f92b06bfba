/**
 * The matrix's VMs as numbered chunks that any thread can take from a shared queue: chunk k is
 * VMs [k * CHUNK_VMS, (k + 1) * CHUNK_VMS) of the seed's sequence, which a thread generates
 * alone (fast-check's replay path skips the VMs before it without generating them). Tallies are
 * kept per chunk and added in chunk order, so a run on any number of threads, with any
 * thread taking any chunk, gives the tallies of one thread going through the VMs in order.
 */
import * as fc from 'fast-check';
import { OUTCOME_KINDS, type GeneratedVm, type OutcomeKind } from './migrate';

/** VMs a thread takes at a time: small enough that both cores finish together. */
export const CHUNK_VMS = 8;

/** VMs [lo, hi) of fc.sample(vms, { seed, numRuns }), the same values, without making those before lo. */
export function sampleRange(
  vms: fc.Arbitrary<GeneratedVm>,
  seed: number,
  lo: number,
  hi: number,
): GeneratedVm[] {
  if (hi <= lo) return [];
  return fc.sample(vms, { seed, numRuns: hi - lo, path: String(lo) });
}

/** One cell's tally over some VMs, and the index of its first violating VM (in the whole sequence). */
export interface CellTally {
  counts: Record<OutcomeKind, number>;
  /** Refusal reasons by count, in the order they first occurred. */
  reasons: Record<string, number>;
  notes: number;
  violations: number;
  firstViolation?: number;
}

/** Every cell's tally over one chunk of VMs. */
export interface ChunkTally {
  readonly chunk: number;
  readonly cells: CellTally[];
}

/**
 * The shared queue: [next chunk to take, VMs done] in an Int32Array over a SharedArrayBuffer,
 * which every thread of one run is given.
 */
export const QUEUE_NEXT = 0;
export const QUEUE_DONE = 1;
export const newQueue = (): Int32Array => new Int32Array(new SharedArrayBuffer(8));

/**
 * Takes chunks from the queue until none is left, migrating each chunk's VMs with `tallyVm`
 * (which adds one VM's outcomes in every cell to the tallies it is given).
 */
export function takeChunks(
  queue: Int32Array,
  runs: number,
  cellCount: number,
  generate: (lo: number, hi: number) => readonly GeneratedVm[],
  tallyVm: (vm: GeneratedVm, index: number, into: CellTally[]) => void,
  onVm?: () => void,
): ChunkTally[] {
  const chunks = Math.ceil(runs / CHUNK_VMS);
  const out: ChunkTally[] = [];
  for (;;) {
    const chunk = Atomics.add(queue, QUEUE_NEXT, 1);
    if (chunk >= chunks) return out;
    const lo = chunk * CHUNK_VMS;
    const hi = Math.min(runs, lo + CHUNK_VMS);
    const cells = Array.from({ length: cellCount }, freshCellTally);
    const vms = generate(lo, hi);
    for (let i = 0; i < vms.length; i++) {
      tallyVm(vms[i], lo + i, cells);
      Atomics.add(queue, QUEUE_DONE, 1);
      onVm?.();
    }
    out.push({ chunk, cells });
  }
}

export function freshCellTally(): CellTally {
  const counts = Object.fromEntries(OUTCOME_KINDS.map((k) => [k, 0])) as Record<
    OutcomeKind,
    number
  >;
  return { counts, reasons: {}, notes: 0, violations: 0 };
}

/** Adds the chunks' tallies in chunk order into one tally per cell. */
export function addChunks(parts: readonly ChunkTally[], into: CellTally[]): void {
  const ordered = [...parts].sort((a, b) => a.chunk - b.chunk);
  for (const part of ordered)
    part.cells.forEach((t, c) => {
      const cell = into[c];
      for (const k of OUTCOME_KINDS) cell.counts[k] += t.counts[k];
      for (const [k, n] of Object.entries(t.reasons)) cell.reasons[k] = (cell.reasons[k] ?? 0) + n;
      cell.notes += t.notes;
      cell.violations += t.violations;
      if (cell.firstViolation === undefined) cell.firstViolation = t.firstViolation;
    });
}
