/**
 * The golden streams under streams/golden/: for every release and design, every scenario it can
 * save, on its default machine type. Generation is deterministic (fixed scenario values, no
 * clocks), so a test regenerates each file and compares bytes. manifest.json records, for every
 * pair, the stream written or why there is none (blocker text or what would be lost).
 */
import { scenarios } from '../x86/scenarios';
import { DESIGN_NAMES, designs, RELEASE_NAMES, releases } from '.';
import { generateStream, type GenerateOutcome } from './generate';
import type { Release } from './types';

export interface GoldenCase {
  readonly kind: 'release' | 'design';
  readonly release: string;
  readonly machine: string;
  readonly scenario: string;
  /** Path under streams/golden/, set when the release can save the scenario. */
  readonly file?: string;
  readonly outcome: GenerateOutcome;
}

export function goldenCases(): GoldenCase[] {
  const out: GoldenCase[] = [];
  const add = (kind: GoldenCase['kind'], r: Release) => {
    for (const sc of scenarios()) {
      const outcome = generateStream(r, r.defaultMachine, sc);
      const dir = kind === 'release' ? r.name : `designs/${r.name}`;
      out.push({
        kind,
        release: r.name,
        machine: r.defaultMachine,
        scenario: sc.name,
        file: outcome.ok ? `${dir}/${sc.name}.mig` : undefined,
        outcome,
      });
    }
  };
  for (const n of RELEASE_NAMES) add('release', releases[n]);
  for (const n of DESIGN_NAMES) add('design', designs[n]);
  return out;
}

/** manifest.json's content: one entry per (release, scenario). */
export function goldenManifest(cases: readonly GoldenCase[] = goldenCases()) {
  return cases.map((c) => ({
    kind: c.kind,
    release: c.release,
    machine: c.machine,
    scenario: c.scenario,
    ...(c.outcome.ok
      ? { file: c.file, bytes: c.outcome.bytes.length }
      : { refused: c.outcome.why, message: c.outcome.message }),
  }));
}
