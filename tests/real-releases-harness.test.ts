/**
 * Real QEMU 5.2 and 10.0 (unpacked by streams/install-releases.sh) run through the harness like
 * the system's 7.2: a capture of each, decoded by us exactly as QEMU's analyze-migration.py
 * decodes it, and re-encoded byte for byte.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './fixtures/run-cli';
import { runAnalyzeMigration } from './support/anchors';
import { captureStreamDetailed, describeQemu, type RealRelease } from './support/qemu';

for (const release of ['5.2', '10.0'] as RealRelease[]) {
  describeQemu(
    `real QEMU ${release} through the harness`,
    () => {
      let dir: string;
      beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), `vmstate-real-${release}-`))));
      afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

      test.each(['pc', 'q35'])('%s -nodefaults: analyzer output and re-encode', async (machine) => {
        const out = path.join(dir, `${machine}.mig`);
        const cap = await captureStreamDetailed({ release, machine, out });
        expect(cap.migration.status).toBe('completed');
        expect(cap.machineType).toMatch(
          machine === 'pc' ? `pc-i440fx-${release}` : `pc-q35-${release}`,
        );
        for (const dump of ['state', 'desc'] as const) {
          const ours = await runCli(['analyze', out, '--format', 'qemu', '--dump', dump]);
          expect(ours.code).toBe(0);
          expect(JSON.parse(ours.stdout)).toEqual(JSON.parse(runAnalyzeMigration(out, dump)));
        }
        const again = path.join(dir, `${machine}.again.mig`);
        expect((await runCli(['reencode', out, '-o', again])).code).toBe(0);
        expect(fs.readFileSync(again).equals(fs.readFileSync(out))).toBe(true);
      });
    },
    release,
  );
}
