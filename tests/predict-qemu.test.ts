/**
 * `vmstate predict` against real QEMU 7.2: a fresh capture and every breakage of
 * tests/support/broken-streams.ts, each loaded by the real destination (same command line,
 * -incoming) and predicted. Outcome, failing section and the lines QEMU prints must be equal.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { predictLoad } from '../src/predict/predict';
import { PLATFORMS } from '../vmstate/platforms';
import { brokenStreams } from './support/broken-streams';
import { captureStreamDetailed, describeQemu, incomingFromFile } from './support/qemu';
import { failingSection, qemuErrorLines } from './support/qemu-verdict';

describeQemu(
  'predict agrees with real QEMU 7.2',
  () => {
    let dir: string;
    beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-predict-qemu-'))));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test.each(['pc', 'q35'])(
      '%s: the stream as captured and each breakage of it',
      async (machine) => {
        const cap = await captureStreamDetailed({
          release: '7.2',
          machine,
          out: path.join(dir, `${machine}.mig`),
        });
        const bytes = new Uint8Array(fs.readFileSync(cap.path));
        const platform = PLATFORMS.platform('7.2', cap.machineType);
        const cases = [
          { name: 'as captured', section: undefined as string | undefined, bytes },
          ...(await brokenStreams(bytes)),
        ];
        expect(cases.length).toBeGreaterThanOrEqual(6);
        for (const c of cases) {
          const file = path.join(dir, 'case.mig');
          fs.writeFileSync(file, c.bytes);
          const predicted = await predictLoad(c.bytes, platform);
          const real = await incomingFromFile(file, { release: '7.2', machine });
          if (real.ok) await real.vm.close();
          const seen = {
            name: c.name,
            outcome: real.ok ? 'ok' : 'refused',
            lines: real.ok ? [] : qemuErrorLines(real.error),
          };
          expect({
            name: c.name,
            outcome: predicted.outcome,
            lines: predicted.refusal?.lines ?? [],
          }).toEqual(seen);
          expect(predicted.refusal?.section).toBe(c.section);
          expect(failingSection(seen.lines)).toBe(c.section);
        }
      },
    );
  },
  '7.2',
);
