/**
 * `vmstate check` and `vmstate compat` give the same verdict on every pair of releases and
 * designs: the static checker reports a break exactly when the migration matrix between the two
 * (both directions, each pair's newest machine types) has a cell that breaks the property.
 * Includes the three designs of issue 9: my-design without extraCompat, a needed() that is
 * always true (tests/fixtures/designs) and a field appended without a version bump
 * (unversioned-append).
 */
import { x86Platform } from '../vmstate/platform';
import * as path from 'node:path';
import { runMatrix } from '../src/compat/matrix';
import { checkCompat } from '../src/compat/static/check';
import { neededOnOldMachineHook, releaseCheckSet } from '../src/compat/static/release-set';
import { resolveRelease } from '../src/cli/run/resolve';
import { DESIGN_NAMES, RELEASE_NAMES, designs, releases } from '../vmstate/releases';
import type { Release } from '../vmstate/releases/types';

const fixture = (name: string) =>
  resolveRelease(path.join(__dirname, 'fixtures', 'designs', `${name}.ts`), 'test');

const all: Release[] = [
  ...RELEASE_NAMES.map((n) => releases[n]),
  ...DESIGN_NAMES.map((n) => designs[n]),
  fixture('no-compat'),
  fixture('always-needed'),
];

function checkBreaks(a: Release, b: Release): boolean {
  const hooks = {
    forward: neededOnOldMachineHook(a, b, { platform: x86Platform, samples: 120 }),
    backward: neededOnOldMachineHook(b, a, { platform: x86Platform, samples: 120 }),
  };
  return checkCompat(releaseCheckSet(a), releaseCheckSet(b), 'full', hooks).breaking > 0;
}

test('check and compat agree on every pair', () => {
  const matrix = runMatrix({
    platform: x86Platform,
    from: all,
    to: all,
    runs: 120,
    seed: 42,
    shrink: false,
  });
  const verdicts: { pair: string; check: boolean; compat: boolean }[] = [];
  for (let i = 0; i < all.length; i++)
    for (let j = i + 1; j < all.length; j++) {
      const [a, b] = [all[i], all[j]];
      const compat = matrix.cells.some(
        (c) => c.violations > 0 && ((c.from === a && c.to === b) || (c.from === b && c.to === a)),
      );
      verdicts.push({ pair: `${a.name} / ${b.name}`, check: checkBreaks(a, b), compat });
    }
  const disagree = verdicts.filter((v) => v.check !== v.compat);
  expect(disagree).toEqual([]);
  // Both kinds of verdict occur, and the three designs of the issue break.
  expect(verdicts.some((v) => v.check)).toBe(true);
  expect(verdicts.some((v) => !v.check)).toBe(true);
  for (const d of ['no-compat', 'always-needed', 'unversioned-append'])
    expect(verdicts.find((v) => v.pair === `7.2 / ${d}` || v.pair === `${d} / 7.2`)?.compat).toBe(
      true,
    );
}, 600_000);
