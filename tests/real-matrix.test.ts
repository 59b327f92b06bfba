/**
 * Real migrations between real QEMU 5.2, 7.2 and 10.0 beside `vmstate predict`
 * (tests/support/real-matrix.ts): the reduced slice by default, the whole matrix with
 * VMSTATE_FULL=1 (streams/real-matrix.sh runs it outside jest, with --shard). Every cell must
 * agree with QEMU (outcome and first failing section), except cells whose stream has sections
 * the destination's catalog has no description of, which predict must name instead of claiming
 * an outcome; every loaded destination must hold the source's registers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { esc } from '../src/html';
import { renderRealMatrixHtml } from './support/real-matrix-html';
import {
  REDUCED,
  selectionCells,
  catalogPredicts,
  matrixCells,
  matrixJson,
  runRealMatrix,
  type MatrixReport,
} from './support/real-matrix';
import { REAL_RELEASES, describeQemu, releaseStatus } from './support/qemu';
import { catalogOf } from '../vmstate/catalog';

const FULL = process.env.VMSTATE_FULL === '1';
/** The release whose absence skips the matrix (or fails it under VMSTATE_REQUIRE_QEMU): the first missing one. */
const gate = REAL_RELEASES.find((r) => !releaseStatus(r).available) ?? '10.0';

describeQemu(
  `real-migration matrix (${FULL ? 'whole' : 'reduced slice'})`,
  () => {
    const cells = FULL ? matrixCells() : selectionCells(REDUCED);
    let report: MatrixReport;
    let dir: string;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-real-matrix-test-'));
      report = await runRealMatrix(cells);
    }, 900_000);
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('every cell ran, both kinds of verdict occur, every cell of a catalog machine type is predicted or names what the catalog lacks', () => {
      expect(report.cells).toHaveLength(cells.length);
      expect(new Set(report.cells.map((c) => c.reality.outcome))).toEqual(
        new Set(['ok', 'refused']),
      );
      for (const c of report.cells) {
        // Every machine type of the matrix is in the catalog of every real release that has it.
        expect({ cell: c.cell.id, known: catalogPredicts(c.cell.to, c.cell.machine) }).toEqual({
          cell: c.cell.id,
          known: true,
        });
        if (c.prediction.status === 'predicted') continue;
        // Not predicted only where the stream has sections the destination's catalog cannot
        // load, named, and each one really absent from that catalog (never a claimed ok).
        expect(c.prediction.why).toMatch(/has no description of/);
        expect(c.prediction.undescribed!.length).toBeGreaterThan(0);
        const catalog = catalogOf(c.cell.to, c.cell.machine);
        for (const s of c.prediction.undescribed!)
          expect({ section: s, described: catalog.lookup(s) !== undefined }).toEqual({
            section: s,
            described: false,
          });
        // Where QEMU refused at a section predict can load, predict reaches the same refusal.
        const at = c.reality.section;
        if (at !== undefined && !c.prediction.undescribed!.includes(at))
          expect({ cell: c.cell.id, beyond: c.prediction.beyond }).toEqual({
            cell: c.cell.id,
            beyond: { outcome: 'refused', section: at },
          });
      }
      // Every cell without the device-rich VM is predicted.
      for (const c of report.cells.filter((x) => !x.cell.configuration.startsWith('rich')))
        expect({ cell: c.cell.id, status: c.prediction.status }).toEqual({
          cell: c.cell.id,
          status: 'predicted',
        });
    });

    test('every predicted cell agrees with QEMU: same outcome, same first failing section', () => {
      const disagreements = report.cells
        .filter((c) => c.prediction.status === 'predicted')
        .filter((c) => !c.agrees)
        .map((c) => ({ cell: c.cell.id, reality: c.reality, prediction: c.prediction }));
      expect(disagreements).toEqual([]);
    });

    test('a refused cell names the section QEMU names', () => {
      for (const c of report.cells.filter((x) => x.reality.outcome === 'refused'))
        expect({ cell: c.cell.id, section: c.reality.section }).toEqual({
          cell: c.cell.id,
          section: expect.any(String),
        });
    });

    test("where the destination loads, its registers equal the source's", () => {
      const loaded = report.cells.filter((c) => c.reality.outcome === 'ok');
      expect(loaded.length).toBeGreaterThan(0);
      for (const c of loaded) {
        expect(c.registers!.compared).toBeGreaterThanOrEqual(20);
        expect({ cell: c.cell.id, differing: c.registers!.differing }).toEqual({
          cell: c.cell.id,
          differing: [],
        });
      }
    });

    test('the JSON report and the HTML page are written', () => {
      const json = JSON.parse(matrixJson(report));
      expect(json.cells).toHaveLength(cells.length);
      const html = renderRealMatrixHtml(report, 'jest');
      fs.writeFileSync(path.join(dir, 'real-matrix.html'), html);
      expect((html.match(/<td class="cell"/g) ?? []).length).toBe(cells.length);
      for (const c of report.cells.filter((x) => x.prediction.status === 'not-predicted'))
        expect(html).toContain(
          esc(c.prediction.status === 'not-predicted' ? c.prediction.why : ''),
        );
    });
  },
  gate,
);
