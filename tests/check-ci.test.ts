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
    /^::error title=SUBSECTION_NEEDED_ON_OLD_MACHINE \[backward\] cpu > [^:]*::'cpu\/kvm_nested_state\/vmx\/preemption_timer' is unknown/,
  );
  const dumps = await runCli(['check', PC, Q35, '--error-format', 'github-actions']);
  // pc and q35 differ in the machine type only: QEMU refuses that at the configuration section.
  expect(dumps.code).toBe(1);
  const annotations = dumps.stdout.trim().split('\n');
  expect(annotations.filter((l) => l.startsWith('::error'))).toEqual([
    expect.stringMatching(/title=MACHINE_TYPE_DIFFERS \[forward\] configuration::/),
    expect.stringMatching(/title=MACHINE_TYPE_DIFFERS \[backward\] configuration::/),
  ]);
  for (const l of annotations)
    expect(l).toMatch(
      new RegExp(
        `^::(error|warning|notice) file=${Q35.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')},title=`,
      ),
    );
});

test('--against: a directory of baseline dumps, or a git ref; a bumped version is a break', async () => {
  const base = path.join(dir, 'base');
  const next = path.join(dir, 'next');
  fs.mkdirSync(base);
  fs.mkdirSync(next);
  const dump = JSON.parse(fs.readFileSync(Q35, 'utf8')) as Record<string, Record<string, unknown>>;
  fs.writeFileSync(path.join(base, 'q35.json'), JSON.stringify(dump));
  fs.writeFileSync(path.join(next, 'q35.json'), JSON.stringify(dump));
  fs.writeFileSync(path.join(next, 'new-machine.json'), JSON.stringify(dump));
  const same = await runCli(['check', next, '--against', base]);
  expect(same.code).toBe(0);
  expect(same.stdout).toContain('new-machine.json: no baseline (new dump), not checked');
  const hpet = dump.hpet as { version_id: number; Description: { version_id: number } };
  hpet.version_id += 1;
  hpet.Description.version_id += 1;
  fs.writeFileSync(path.join(next, 'q35.json'), JSON.stringify(dump));
  const bumped = await runCli([
    'check',
    next,
    '--against',
    base,
    '--error-format',
    'github-actions',
  ]);
  expect(bumped.code).toBe(1);
  expect(bumped.stdout).toMatch(
    /^::error file=.*q35\.json,title=VERSION_TOO_NEW \[backward\] hpet::/m,
  );
  // A git ref: the committed dump against itself at HEAD.
  expect((await runCli(['check', Q35, '--against', 'HEAD'])).code).toBe(0);
  expect((await runCli(['check', Q35, '--against', 'no-such-ref-anywhere'])).code).toBe(2);
  expect((await runCli(['check', Q35, PC, '--against', base])).code).toBe(2);
});
