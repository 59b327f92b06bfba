/**
 * ts-jest runs the tests without type checking (isolatedModules), so this runs the compiler over
 * the whole project once: a state type that stops matching its description fails here.
 */
import { spawnSync } from 'child_process';
import { join } from 'path';

it('the project type-checks, including the inferred-state assertions in tests/types', () => {
  const root = join(__dirname, '..');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = spawnSync(process.execPath, [tsc, '--noEmit', '-p', root], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  expect(run.stdout + run.stderr).toBe('');
  expect(run.status).toBe(0);
});
