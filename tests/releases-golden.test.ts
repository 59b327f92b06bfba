/**
 * Golden streams: regenerating every release x scenario must give the committed bytes, and the
 * manifest must record the same outcomes (files for what a release saves, the blocker or loss
 * message for what it refuses). After an intended change, `npm run golden` rewrites them
 * (streams/update-golden.ts); this test only compares.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { AnyVMSDesc } from '../src';
import { RELEASE_NAMES, releases } from '../vmstate/releases';
import { goldenCases, goldenManifest } from '../vmstate/releases/golden';

/** The names of a description's subsections, nested ones (inside struct fields too) included. */
function describeTree(d: AnyVMSDesc): string[] {
  const out: string[] = [];
  for (const s of d.subsections as readonly AnyVMSDesc[]) out.push(s.name, ...describeTree(s));
  for (const f of d.fields) {
    const inner = (f.kind as { desc?: AnyVMSDesc }).desc;
    if (inner) out.push(...describeTree(inner));
  }
  return out;
}

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

  it('every release saves the scenario without nested guests, and only a release with the preemption-timer child carries that scenario', () => {
    const ok = (r: string, s: string) =>
      cases.find((c) => c.release === r && c.scenario === s)!.outcome.ok;
    const hasTimerChild = (r: string) =>
      JSON.stringify(
        describeTree(releases[r].catalog.find((c) => c.name === 'cpu')!.vmsd),
      ).includes('cpu/kvm_nested_state/vmx/preemption_timer');
    expect(RELEASE_NAMES.filter(hasTimerChild).length).toBeGreaterThan(0);
    for (const r of RELEASE_NAMES) {
      expect(ok(r, 'no-nested')).toBe(true);
      expect(ok(r, 'vmx-l2-preemption-timer')).toBe(hasTimerChild(r));
    }
  });
});
