/**
 * The configurations of streams/configurations.ts captured live from each real release: the
 * stream decodes exactly as QEMU's analyze-migration.py decodes it (-d state and -d desc) and
 * re-encodes byte for byte. The default run captures the device-rich VM with -cpu qemu64,+svm on
 * each release's newest q35; VMSTATE_FULL=1 captures every machine type x configuration.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CONFIGURATIONS,
  RELEASE_MACHINE_TYPES,
  captureStem,
  writeImages,
} from '../streams/configurations';
import { runCli } from './fixtures/run-cli';
import { fullRun } from './fixtures/release-streams';
import { runAnalyzeMigration } from './support/anchors';
import { captureStreamDetailed, describeQemu, type RealRelease } from './support/qemu';

for (const release of ['5.2', '7.2', '10.0'] as RealRelease[]) {
  const machines = RELEASE_MACHINE_TYPES[release];
  const jobs = fullRun()
    ? machines.flatMap((m) => CONFIGURATIONS.map((c) => [captureStem(m, c.name), m, c] as const))
    : [
        [
          captureStem(machines[1]!, 'rich-svm'),
          machines[1]!,
          CONFIGURATIONS.find((c) => c.name === 'rich-svm')!,
        ] as const,
      ];
  describeQemu(
    `real QEMU ${release}: configurations captured live`,
    () => {
      let dir: string;
      beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), `vmstate-conf-${release}-`))));
      afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

      test.each(jobs)('%s', async (stem, machineType, configuration) => {
        writeImages(configuration, dir);
        const out = path.join(dir, `${stem}.mig`);
        const cap = await captureStreamDetailed({
          ...configuration.options(machineType, dir),
          release,
          out,
        });
        expect(cap.migration.status).toBe('completed');
        expect(cap.machineType).toBe(machineType);
        for (const dump of ['state', 'desc'] as const) {
          const ours = await runCli(['analyze', out, '--format', 'qemu', '--dump', dump]);
          expect(ours.code).toBe(0);
          expect(JSON.parse(ours.stdout)).toEqual(JSON.parse(runAnalyzeMigration(out, dump)));
        }
        const again = path.join(dir, `${stem}.again.mig`);
        expect((await runCli(['reencode', out, '-o', again])).code).toBe(0);
        expect(fs.readFileSync(again).equals(fs.readFileSync(out))).toBe(true);
        fs.rmSync(out);
        fs.rmSync(again);
      });
    },
    release,
  );
}
