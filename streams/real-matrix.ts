/**
 * Runs the real-migration matrix (tests/support/real-matrix.ts) and writes its JSON report and
 * HTML page, whole or not at all:
 *
 *   streams/real-matrix.sh [--out DIR] [--shard K/N] [--jobs N] [--reduced]
 *
 * Exit 1 when a predicted cell disagrees with QEMU or registers differ after a load.
 */
import { Command } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomically } from '../src/stream/atomic-file';
import { cellState, renderRealMatrixHtml } from '../tests/support/real-matrix-html';
import {
  REDUCED,
  selectionCells,
  matrixCells,
  matrixJson,
  runRealMatrix,
  shard,
} from '../tests/support/real-matrix';


async function main(): Promise<void> {
  const program = new Command('real-matrix')
    .option('--out <dir>', 'where to write real-matrix.json and real-matrix.html', '.')
    .option('--shard <k/n>', 'run only the K-th of N shares of the cells')
    .option('--jobs <n>', 'QEMUs at a time', String(os.cpus().length))
    .option('--reduced', 'the CI slice instead of the whole matrix')
    .option('--keep-streams <dir>', 'keep the captured source streams in DIR (default: removed)')
    .parse();
  const o = program.opts<{
    out: string;
    shard?: string;
    jobs: string;
    reduced?: boolean;
    keepStreams?: string;
  }>();
  let cells = o.reduced ? selectionCells(REDUCED) : matrixCells();
  if (o.shard) {
    const m = /^(\d+)\/(\d+)$/.exec(o.shard);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2]))
      throw new Error(`--shard must be K/N with 1 <= K <= N, not '${o.shard}'`);
    cells = shard(cells, Number(m[1]), Number(m[2]));
  }
  let done = 0;
  const report = await runRealMatrix(cells, {
    concurrency: Number(o.jobs),
    shard: o.shard,
    dir: o.keepStreams && (fs.mkdirSync(o.keepStreams, { recursive: true }), o.keepStreams),
    onCell: (r) => process.stderr.write(`[${++done}/${cells.length}] ${cellState(r)}  ${r.cell.id}\n`),
  });
  fs.mkdirSync(o.out, { recursive: true });
  const command = `streams/real-matrix.sh ${process.argv.slice(2).join(' ')}`.trim();
  await writeFileAtomically(path.join(o.out, 'real-matrix.json'), async (fd) => fs.writeFileSync(fd, matrixJson(report)));
  await writeFileAtomically(path.join(o.out, 'real-matrix.html'), async (fd) =>
    fs.writeFileSync(fd, renderRealMatrixHtml(report, command)),
  );
  const bad = report.cells.filter((c) => cellState(c) === 'disagree');
  process.stdout.write(
    `${report.cells.length} cells, ${(report.migrations / report.seconds).toFixed(2)} migrations/s: ` +
      `${report.cells.filter((c) => c.agrees).length} agree, ${bad.length} disagree, ` +
      `${report.cells.filter((c) => c.agrees === undefined).length} not predicted\n`,
  );
  for (const b of bad) process.stdout.write(`  DISAGREE ${b.cell.id}\n`);
  process.exitCode = bad.length ? 1 : 0;
}

main().catch((e: unknown) => {
  process.stderr.write(`real-matrix: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
});
