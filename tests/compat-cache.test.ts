/**
 * The matrix shares one MigrationCache across every cell a VM goes through: encodings, loads,
 * comparisons and placed refusals are computed once and reused. Sharing must never change an
 * outcome: each cell's migration with the shared cache equals the same migration with a fresh
 * cache of its own (outcome, expectation and violation), refusals' offsets and paths included.
 */
import * as fc from 'fast-check';
import { checkMigration, matrixCells } from '../src/compat/matrix';
import { MigrationCache } from '../src/compat/migrate';
import { RELEASE_NAMES, releases } from '../vmstate/releases';
import { x86Platform } from '../vmstate/platform';
import { testSeed } from './support/seed';

const SEED = testSeed();

describe('a shared MigrationCache', () => {
  const all = RELEASE_NAMES.map((n) => releases[n]);
  const cells = matrixCells({ platform: x86Platform, from: all, to: all });
  const vms = fc.sample(x86Platform.arbitraryVm(all), { numRuns: 12, seed: SEED });

  it('gives every cell the outcome a fresh cache gives', () => {
    const kinds = new Set<string>();
    for (const vm of vms) {
      const shared = new MigrationCache(vm);
      for (const cell of cells) {
        const got = checkMigration(vm, cell, shared);
        const alone = checkMigration(vm, cell, new MigrationCache(vm));
        expect({ cell: `${cell.from.name}->${cell.to.name} ${cell.machine}`, ...got }).toEqual({
          cell: `${cell.from.name}->${cell.to.name} ${cell.machine}`,
          ...alone,
        });
        kinds.add(got.outcome.kind);
      }
    }
    // The sample reaches refusals as well as ok migrations, so both cached paths are compared.
    expect([...kinds].sort()).toEqual(expect.arrayContaining(['ok', 'refused']));
  });
});
