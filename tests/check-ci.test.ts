/** `vmstate check` in CI: the ignore file (each rule with a reason) and GitHub Actions annotations. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './fixtures/run-cli';

const NO_COMPAT = path.join(__dirname, 'fixtures', 'designs', 'no-compat.ts');
const Q35 = path.join(__dirname, '..', 'streams', 'qemu-7.2', 'vmstate-q35.json');
const PC = path.join(__dirname, '..', 'streams', 'qemu-7.2', 'vmstate-pc.json');
let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-check-ci-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, v: unknown) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, typeof v === 'string' ? v : JSON.stringify(v));
  return f;
};

test('an ignore rule with its reason takes a break out of the count (exit 0) and lists it apart', async () => {
  const before = await runCli(['check', '7.2', NO_COMPAT, '--samples', '10']);
  expect(before.code).toBe(1);
  const ignore = write('ignore.json', {
    ignore: [
      {
        rule: 'SUBSECTION_NEEDED_ON_OLD_MACHINE',
        section: 'cpu',
        path: 'cpu > cpu/nested_state',
        reason: 'the deadline subsection is sent on purpose in this test',
      },
    ],
  });
  const r = await runCli(['check', '7.2', NO_COMPAT, '--samples', '10', '--ignore', ignore]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('0 breaking');
  expect(r.stdout).toContain('1 finding(s) ignored');
  expect(r.stdout).toContain('the deadline subsection is sent on purpose in this test');
  // A rule for another section does not match.
  const other = write('other.json', {
    ignore: [{ rule: 'SUBSECTION_NEEDED_ON_OLD_MACHINE', section: 'timer', reason: 'x' }],
  });
  expect(
    (await runCli(['check', '7.2', NO_COMPAT, '--samples', '10', '--ignore', other])).code,
  ).toBe(1);
});

test('an ignore file without reasons, with unknown rules or not JSON is unusable input (exit 3); a missing one is usage (exit 2)', async () => {
  for (const bad of [
    { ignore: [{ rule: 'FIELD_RENAMED' }] },
    { ignore: [{ rule: 'NO_SUCH_RULE', reason: 'r' }] },
    { ignore: [{ reason: 'matches everything' }] },
    'not json',
  ]) {
    const r = await runCli(['check', PC, Q35, '--ignore', write('bad.json', bad)]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^vmstate: .*bad\.json: /);
  }
  expect((await runCli(['check', PC, Q35, '--ignore', path.join(dir, 'none.json')])).code).toBe(2);
  expect((await runCli(['check', PC, Q35, '--error-format', 'xml'])).code).toBe(2);
});

test('--error-format github-actions: one annotation per finding, breaks as ::error, the dump file named', async () => {
  const r = await runCli([
    'check',
    '7.2',
    NO_COMPAT,
    '--samples',
    '10',
    '--error-format',
    'github-actions',
  ]);
  expect(r.code).toBe(1);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^::error title=SUBSECTION_NEEDED_ON_OLD_MACHINE \[forward\] cpu > [^:]*::'cpu\/kvm_nested_state\/vmx\/preemption_timer' is unknown/,
  );
  const dumps = await runCli(['check', PC, Q35, '--error-format', 'github-actions']);
  expect(dumps.code).toBe(0);
  for (const l of dumps.stdout.trim().split('\n'))
    expect(l).toMatch(
      new RegExp(`^::(warning|notice) file=${Q35.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')},title=`),
    );
});
