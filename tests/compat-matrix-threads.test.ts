/**
 * The matrix's threads take chunks of VMs from a shared queue, each generating its chunks from
 * the seed alone (src/compat/matrix-chunks.ts): a chunk's VMs are those of the whole sequence,
 * and tallies added in chunk order, whoever made them, are those of one thread going through
 * the VMs in order (refusal reasons in the order they first occurred, the first violating VM).
 * With a build (dist/, as npm ci makes), runMatrix on worker threads gives one thread's tallies.
 */
import { spawnSync } from 'child_process';
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { matrixCells, tallyVm } from '../src/compat/matrix';
import {
  CHUNK_VMS,
  addChunks,
  freshCellTally,
  newQueue,
  sampleRange,
  takeChunks,
} from '../src/compat/matrix-chunks';
import { x86Platform } from '../vmstate/platform';
import { designs, releases } from '../vmstate/releases';
import { testSeed } from './support/seed';

const SEED = testSeed();

describe('matrix chunks', () => {
  const list = [releases['7.2'], releases['5.2'], designs['unversioned-append']];
  const vms = x86Platform.arbitraryVm(list);
  const cells = matrixCells({ platform: x86Platform, from: list, to: list });
  const RUNS = 3 * CHUNK_VMS + 3;

  it("a range of VMs is that range of the seed's whole sequence", () => {
    const all = fc.sample(vms, { numRuns: RUNS, seed: SEED });
    expect(sampleRange(vms, SEED, 5, 13)).toEqual(all.slice(5, 13));
    expect(sampleRange(vms, SEED, RUNS - 2, RUNS)).toEqual(all.slice(RUNS - 2));
    expect(sampleRange(vms, SEED, 4, 4)).toEqual([]);
  });

  it('chunk tallies added in chunk order, from any thread, are the tallies of the VMs in order', () => {
    const all = fc.sample(vms, { numRuns: RUNS, seed: SEED });
    const inOrder = cells.map(freshCellTally);
    all.forEach((vm, i) => tallyVm(vm, i, cells, inOrder));
    const parts = takeChunks(
      newQueue(),
      RUNS,
      cells.length,
      (lo, hi) => sampleRange(vms, SEED, lo, hi),
      (vm, i, into) => tallyVm(vm, i, cells, into),
    );
    expect(parts.map((p) => p.chunk)).toEqual([0, 1, 2, 3]);
    // As if other threads had made them: in reverse order.
    const added = cells.map(freshCellTally);
    addChunks([...parts].reverse(), added);
    expect(added).toEqual(inOrder);
    // The sample goes through both kinds of outcome, and a design that breaks the property.
    expect(inOrder.some((t) => t.counts.refused > 0)).toBe(true);
    expect(inOrder.some((t) => t.counts.ok > 0)).toBe(true);
    expect(inOrder.some((t) => t.firstViolation !== undefined)).toBe(true);
  });
});

const DIST = path.join(__dirname, '..', 'dist');
const built = fs.existsSync(path.join(DIST, 'src', 'compat', 'matrix-worker.js'));

(built ? describe : describe.skip)('runMatrix on worker threads (run npm run build first)', () => {
  it('gives the tallies of one thread, on fresh workers and on kept ones', () => {
    const script = `
      const { runMatrix } = require(${JSON.stringify(path.join(DIST, 'src', 'compat', 'matrix'))});
      const { x86Platform } = require(${JSON.stringify(path.join(DIST, 'vmstate', 'platform'))});
      const { releases } = require(${JSON.stringify(path.join(DIST, 'vmstate', 'releases'))});
      const list = ['3.1', '4.0', '5.2', '7.2', 'next'].map((n) => releases[n]);
      const threads = [];
      const run = (workers) => { const r = runMatrix({ platform: x86Platform, from: list, to: list, runs: 1300, seed: ${SEED}, shrink: false, workers }); threads.push(r.threads); return r
        .cells.map((c) => ({ cell: c.from.name + '>' + c.to.name + ' ' + c.machine, counts: c.counts,
          reasons: Object.entries(c.reasons), notes: c.notes, violations: c.violations,
          reasonsOrder: Object.keys(c.reasons) })); };
      const one = run(1);
      // Twice: the second run is on the workers the first one left.
      const [two, again] = [run(2), run(3)];
      process.stdout.write(JSON.stringify({ one, two, again, threads }));`;
    const r = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      maxBuffer: 256 << 20,
      timeout: 300_000,
    });
    expect(r.stderr).toBe('');
    const { one, two, again, threads } = JSON.parse(r.stdout) as Record<string, unknown[]>;
    expect(threads).toEqual([1, 2, 3]);
    expect(two).toEqual(one);
    expect(again).toEqual(one);
    // Refusals of both sides occur, so the reasons' order is compared too.
    expect(JSON.stringify(one)).toMatch(/source:blocker/);
    expect(JSON.stringify(one)).toMatch(/destination:unknown-subsection/);
  }, 320_000);
});
