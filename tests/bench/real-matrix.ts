/**
 * Real-migration benchmark: the real matrix's wall time and real QEMU migrations per second
 * (capture once per source, one destination QEMU per cell, all cores), against a peer measured
 * in the same run on the same cells: `vmstate predict` loading each cell's stream into its
 * destination's catalog. The CI slice by default; BENCH_REAL_MATRIX=full runs the whole matrix.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { predictLoad } from '../../src/predict/predict';
import { PLATFORMS } from '../../vmstate/platforms';
import { REAL_RELEASES, releaseStatus } from '../support/qemu';
import { REDUCED, matrixCells, runRealMatrix, selectionCells } from '../support/real-matrix';

export async function benchRealMatrix(): Promise<void> {
  const missing = REAL_RELEASES.filter((r) => !releaseStatus(r).available);
  if (missing.length) {
    console.log(`\nreal-matrix: skipped (QEMU ${missing.join(', ')} not installed)`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-bench-matrix-'));
  try {
    const full = process.env.BENCH_REAL_MATRIX === 'full';
    const cells = full ? matrixCells() : selectionCells(REDUCED);
    const report = await runRealMatrix(cells, { dir });
    const streams = new Map<string, Uint8Array>();
    const work = cells.map((c) => {
      const file = path.join(dir, `${c.from}-${c.sourceMachine}-${c.configuration}.mig`);
      if (!streams.has(file)) streams.set(file, new Uint8Array(fs.readFileSync(file)));
      return { bytes: streams.get(file)!, platform: PLATFORMS.platform(c.to, c.machine) };
    });
    let n = 0;
    const t0 = process.hrtime.bigint();
    do {
      for (const w of work) {
        await predictLoad(w.bytes, w.platform);
        n++;
      }
    } while (Number(process.hrtime.bigint() - t0) < 2e9);
    const predictPerSecond = n / (Number(process.hrtime.bigint() - t0) / 1e9);
    const realPerSecond = report.migrations / report.seconds;
    const agree = report.cells.filter((c) => c.agrees).length;
    const disagree = report.cells.filter((c) => c.agrees === false).length;
    console.log(
      `\nreal-matrix: ${full ? 'the whole matrix' : 'the CI slice'}, real QEMU migrations (${report.concurrency} workers, captures included)`,
    );
    console.log(
      `  wall time                ${report.seconds.toFixed(1).padStart(9)} s   (${report.cells.length} cells: ${agree} agree, ${disagree} disagree, ${report.cells.length - agree - disagree} not predicted)`,
    );
    console.log(
      `  real migrations          ${realPerSecond.toFixed(2).padStart(9)} /s  (${streams.size} captures)`,
    );
    console.log(
      `  vmstate predict (peer)   ${predictPerSecond.toFixed(1).padStart(9)} /s  ${(predictPerSecond / realPerSecond).toFixed(0)}x the real migrations, one core`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
