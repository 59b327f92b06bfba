/**
 * Real-migration benchmark: real QEMU migrations per second in the matrix runner (capture once
 * per source, one destination QEMU per cell, all cores), against a peer measured in the same
 * run on the same streams: `vmstate predict` loading each of them into 7.2's catalog.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { predictLoad } from '../../src/predict/predict';
import { PLATFORMS } from '../../vmstate/platforms';
import { REAL_RELEASES, releaseStatus } from '../support/qemu';
import { matrixCells, runRealMatrix } from '../support/real-matrix';

export async function benchRealMatrix(): Promise<void> {
  const missing = REAL_RELEASES.filter((r) => !releaseStatus(r).available);
  if (missing.length) {
    console.log(`\nreal-matrix: skipped (QEMU ${missing.join(', ')} not installed)`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-bench-matrix-'));
  try {
    const cells = matrixCells({
      configurations: ['nodefaults-paused'],
      machines: ['pc-q35-5.2', 'pc-q35-7.2'],
      acrossMachines: false,
    });
    const report = await runRealMatrix(cells, { dir });
    const streams = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.mig'))
      .map((f) => new Uint8Array(fs.readFileSync(path.join(dir, f))));
    const platform = PLATFORMS.platform('7.2', 'pc-q35-7.2');
    let n = 0;
    const t0 = process.hrtime.bigint();
    do {
      for (const s of streams) {
        await predictLoad(s, platform);
        n++;
      }
    } while (Number(process.hrtime.bigint() - t0) < 2e9);
    const predictPerSecond = n / (Number(process.hrtime.bigint() - t0) / 1e9);
    const realPerSecond = report.migrations / report.seconds;
    console.log(
      `\nreal-matrix: real QEMU migrations (${report.concurrency} workers, captures included)`,
    );
    console.log(
      `  real migrations          ${realPerSecond.toFixed(2).padStart(9)} /s  (${report.migrations} cells in ${report.seconds.toFixed(1)} s)`,
    );
    console.log(
      `  vmstate predict (peer)   ${predictPerSecond.toFixed(1).padStart(9)} /s  ${(predictPerSecond / realPerSecond).toFixed(0)}x the real migrations, one core`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
