/**
 * `check` and `compat` use the same words for a break: one sentence (BREAK_SENTENCE) in README,
 * in both commands' output when something breaks, and in the heatmap's legend; direction names
 * are QEMU's, and the help of check, compat and predict says which is a backward migration.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BREAK_SENTENCE } from '../src/compat/expect';
import { esc } from '../src/html/escape';
import { runCli } from './fixtures/run-cli';

const NO_COMPAT = path.join(__dirname, 'fixtures', 'designs', 'no-compat.ts');
const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

test('README says what a break is in the very sentence the commands print', () => {
  expect(README).toContain(BREAK_SENTENCE);
});

test('check and compat print that sentence when they find a break, and the heatmap legend holds it', async () => {
  const check = await runCli(['check', '7.2', NO_COMPAT, '--samples', '10']);
  expect(check.code).toBe(1);
  expect(check.stdout).toContain(BREAK_SENTENCE);
  const args = ['compat', '--from', NO_COMPAT, '--to', '7.2', '--machine', 'pc-q35-7.2'];
  const compat = await runCli([...args, '--runs', '30']);
  expect(compat.code).toBe(1);
  expect(compat.stdout).toContain(BREAK_SENTENCE);
  // The same cell is named with QEMU's direction: newer design -> 7.2 is a backward migration.
  expect(compat.stdout).toMatch(/no-compat -> 7\.2 on pc-q35-7\.2 \(backward\)/);
  const html = await runCli([...args, '--runs', '30', '--html', '-']);
  expect(html.stdout).toContain(esc(BREAK_SENTENCE));
});

test.each(['check', 'compat', 'predict'])(
  '%s --help says which direction is a backward migration',
  async (command) => {
    const r = await runCli([command, '--help']);
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(
      /backward migration[^.;]*newer -> older|older[^.;]*backward migration/,
    );
  },
);
