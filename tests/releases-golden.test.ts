/**
 * Golden streams: regenerating every release x scenario must give the committed bytes, and the
 * manifest must record the same outcomes (files for what a release saves, the blocker or loss
 * message for what it refuses). After an intended change, `npm run golden` rewrites them
 * (streams/update-golden.ts); this test only compares.
 */
import * as fs from 'fs';
import * as path from 'path';
import { goldenCases, goldenManifest } from '../vmstate/releases/golden';

const ROOT = path.join(__dirname, '..', 'streams', 'golden');
const cases = goldenCases();

describe('golden streams', () => {
  it('the manifest lists the same outcomes', () => {
    const committed = JSON.parse(fs.readFileSync(path.join(ROOT, 'manifest.json'), 'utf8'));
    expect(goldenManifest(cases)).toEqual(committed);
  });

  it.each(cases.filter((c) => c.outcome.ok).map((c) => [c.file!, c] as const))(
    '%s regenerates byte for byte',
    (file, c) => {
      const committed = fs.readFileSync(path.join(ROOT, file));
      expect(c.outcome.ok).toBe(true);
      if (c.outcome.ok) expect(Buffer.from(c.outcome.bytes).equals(committed)).toBe(true);
    },
  );

  it('no stream exists for a pair the release refuses', () => {
    for (const c of cases.filter((x) => !x.outcome.ok)) {
      const dir = c.kind === 'release' ? c.release : `designs/${c.release}`;
      expect(fs.existsSync(path.join(ROOT, dir, `${c.scenario}.mig`))).toBe(false);
    }
  });

  it('every real release saves the scenario without nested guests, and only next carries the preemption timer', () => {
    const ok = (r: string, s: string) =>
      cases.find((c) => c.release === r && c.scenario === s)!.outcome.ok;
    for (const r of ['3.0', '3.1', '4.0', '4.1', '5.0', '5.1', '7.2', 'next'])
      expect(ok(r, 'no-nested')).toBe(true);
    for (const r of ['3.0', '3.1', '4.0', '4.1', '5.0', '5.1', '7.2'])
      expect(ok(r, 'vmx-l2-preemption-timer')).toBe(false);
    expect(ok('next', 'vmx-l2-preemption-timer')).toBe(true);
  });
});
