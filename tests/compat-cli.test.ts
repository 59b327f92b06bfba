/**
 * `vmstate check` and `vmstate compat` as a user runs them: exit codes (0 compatible, 1 a break,
 * 2 usage, 3 unusable input file), text and JSON output, and designs of one's own given as a
 * TypeScript module path (vmstate/examples/my-design.ts, and broken modules).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadUserModule, releaseFromModule } from '../src/compat/load-module';
import { migrate } from '../src/compat/migrate';
import { RELEASE_NAMES, releases, type VmStates } from '../vmstate/releases';
import { scenario } from '../vmstate/x86/scenarios';
import { runCli } from './fixtures/run-cli';

const ROOT = path.join(__dirname, '..');
const EXAMPLE = path.join(ROOT, 'vmstate', 'examples', 'my-design.ts');
const DUMPS = path.join(ROOT, 'streams', 'qemu-7.2');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compat-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
};

describe('vmstate check', () => {
  it('7.2 -> next: the new subsection is never sent on 7.2 machine types (info), exit 0', async () => {
    const r = await runCli(['check', '7.2', 'next']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0 breaking/);
    expect(r.stdout).toMatch(
      /INFO +SUBSECTION_NEVER_NEEDED_ON_OLD_MACHINE \[backward\] .*cpu\/kvm_nested_state\/vmx\/preemption_timer/,
    );
  });

  it('5.0 -> 5.1: the SVM child stands for nested SVM, a feature 5.0 lacks: a warning, not a break (exit 0)', async () => {
    const r = await runCli(['check', '5.0', '5.1', '--samples', '20']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /WARNING SUBSECTION_OF_FEATURE_UNKNOWN_TO_DESTINATION \[backward\] .*cpu\/kvm_nested_state\/svm: .*a guest or host feature QEMU migrates since 5\.1/,
    );
  });

  it('a design subsection sent on the old machine type is a break, with the example: no-compat vs 7.2, exit 1', async () => {
    const r = await runCli([
      'check',
      '7.2',
      path.join(__dirname, 'fixtures', 'designs', 'no-compat.ts'),
      '--samples',
      '20',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /BREAK +SUBSECTION_NEEDED_ON_OLD_MACHINE \[backward\] .*cpu\/kvm_nested_state\/vmx\/preemption_timer: .*on pc-q35-7\.2/,
    );
    expect(r.stdout).toContain("A break is a migration QEMU's contract forbids");
  });

  it('compat: an unknown machine type is a usage error (exit 2)', async () => {
    const r = await runCli(['compat', '--machine', 'bogus', '--runs', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown machine type 'bogus'/);
  });

  it('--mode forward only looks at what the newer side must load: 5.0 -> 5.1 is fine', async () => {
    const r = await runCli(['check', '5.0', '5.1', '--mode', 'forward', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ old: '5.0', new: '5.1', mode: 'forward', breaking: 0 });
  });

  it('designs: unversioned-append breaks both ways on the appended fields', async () => {
    const r = await runCli(['check', '7.2', 'unversioned-append', '--json']);
    expect(r.code).toBe(1);
    const rules = JSON.parse(r.stdout).findings.map(
      (f: { direction: string; rule: string }) => `${f.direction}:${f.rule}`,
    );
    expect(rules).toContain('forward:FIELD_APPENDED_WITHOUT_VERSION_BUMP');
    expect(rules).toContain('backward:FIELD_MISSING_ON_DESTINATION');
  });

  it('QEMU -dump-vmstate files: pc vs q35 of 7.2 differ only in the machine type, a break QEMU refuses (exit 1)', async () => {
    const r = await runCli([
      'check',
      path.join(DUMPS, 'vmstate-pc.json'),
      path.join(DUMPS, 'vmstate-q35.json'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/2 breaking/);
    expect(r.stdout).toMatch(
      /BREAK +MACHINE_TYPE_DIFFERS \[forward\] configuration: Machine type received/,
    );
  });

  it('usage errors exit 2: unknown release, bad mode', async () => {
    const a = await runCli(['check', '7.2', '9.9']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown release '9.9'.*releases: 3.0/);
    const b = await runCli(['check', '7.2', 'next', '--mode', 'sideways']);
    expect(b.code).toBe(2);
  });

  it('unusable input files exit 3: not JSON, not a dump, a missing module', async () => {
    const notJson = write('bad.json', '{ "isa-fdc": ');
    expect((await runCli(['check', notJson, '7.2'])).code).toBe(3);
    const notDump = write('notdump.json', '{"x": {"y": 1}}');
    const r = await runCli(['check', notDump, '7.2']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/x\.Description: /);
    expect((await runCli(['check', '7.2', path.join(tmp, 'missing.ts')])).code).toBe(3);
  });
});

describe("a design of one's own as a TypeScript module", () => {
  it('vmstate check 7.2 my-design.ts: accepted (the new subsection is off on 7.2 machine types), exit 0', async () => {
    const r = await runCli(['check', '7.2', EXAMPLE]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/vmstate check 7.2 -> my-design \(full\): 0 breaking/);
    expect(r.stdout).toMatch(/SUBSECTION_NEVER_NEEDED_ON_OLD_MACHINE .*preemption_timer/);
  });

  it('vmstate compat --design my-design.ts: the property holds in every cell, exit 0', async () => {
    const r = await runCli(['compat', '--design', EXAMPLE, '--runs', '20', '--json']);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout);
    const mine = m.cells.filter(
      (c: { from: string; to: string }) => c.from === 'my-design' || c.to === 'my-design',
    );
    // To and from every release, and to itself, on one machine type per family.
    expect(mine.length).toBe(2 * (2 * RELEASE_NAMES.length + 1));
    expect(mine.every((c: { violations: number }) => c.violations === 0)).toBe(true);
  });

  it('my-design carries the deadline on its own machine type and drops it (as a note) on pc-q35-7.2', () => {
    const mine = releaseFromModule(EXAMPLE, loadUserModule(EXAMPLE, { typeCheck: false }));
    const sc = scenario('vmx-l2-preemption-timer')!;
    const vm = { ctx: sc.ctx, state: sc.state as unknown as VmStates };
    expect(
      migrate(vm, { release: mine, machine: 'pc-q35-next' }, { release: releases.next }),
    ).toEqual({ kind: 'ok', notes: [] });
    const onOld = migrate(
      vm,
      { release: mine, machine: 'pc-q35-7.2' },
      { release: releases['7.2'] },
    );
    expect(onOld.kind).toBe('ok');
    // (nested-support.ts names next's property in this note whatever the design's property is.)
    expect(onOld.notes.join()).toMatch(/VMX-preemption timer deadline .* this machine type sets/);
    const toOld = migrate(
      vm,
      { release: mine, machine: 'pc-q35-next' },
      { release: releases['7.2'] },
    );
    expect(toOld.kind === 'refused' && toOld.refusal.reason).toBe('unknown-machine');
  });

  it('a TypeScript error is reported with file, line and column, exit 3', async () => {
    const bad = write(
      'typo-design.ts',
      [
        "import { defineRelease } from '" +
          path.join(ROOT, 'vmstate', 'releases', 'release') +
          "';",
        '',
        "export default defineRelease({ version: 'next', summary: 42 });",
        '',
      ].join('\n'),
    );
    const r = await runCli(['check', '7.2', bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/typo-design\.ts: 1 TypeScript error/);
    expect(r.stderr).toMatch(
      /typo-design\.ts:3:\d+: error TS2322: Type 'number' is not assignable to type 'string'/,
    );
  });

  it('a module that throws while loading, or exports no release, exit 3 with the reason', async () => {
    const throwing = write('throws.ts', "throw new Error('not today');\nexport {};\n");
    const a = await runCli(['compat', '--design', throwing, '--runs', '1']);
    expect(a.code).toBe(3);
    expect(a.stderr).toMatch(/error while loading the module: not today/);
    const empty = write('empty.ts', 'export const answer: number = 42;\n');
    const b = await runCli(['check', '7.2', empty]);
    expect(b.code).toBe(3);
    expect(b.stderr).toMatch(/exports no release/);
  });
});

describe('vmstate compat', () => {
  it('text: one table per machine family, counts per cell, exit 0 when every cell keeps the property', async () => {
    const r = await runCli([
      'compat',
      '--from',
      '5.1',
      '7.2',
      '--to',
      '5.1',
      '7.2',
      '--runs',
      '30',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/8 cells x 30 VMs/);
    expect(r.stdout).toMatch(/^pc-q35:$/m);
    expect(r.stdout).toMatch(/^pc-i440fx:$/m);
    expect(r.stdout).toMatch(/^5\.1 +30\/0 +30\/0$/m);
    expect(r.stdout).toMatch(/0 cell\(s\) break the property/);
  });

  it('--design unversioned-append: exit 1, counterexamples with reproduction files that --state replays', async () => {
    const repro = path.join(tmp, 'repro');
    process.env.VMSTATE_REPRO_DIR = repro;
    let r;
    try {
      r = await runCli([
        'compat',
        '--from',
        '7.2',
        '--to',
        'unversioned-append',
        '--machine',
        'pc-q35-7.2',
        '--runs',
        '40',
        '--shrink-time',
        '500',
        '--json',
      ]);
    } finally {
      delete process.env.VMSTATE_REPRO_DIR;
    }
    expect(r.code).toBe(1);
    const cell = JSON.parse(r.stdout).cells[0];
    expect(cell.violations).toBeGreaterThan(0);
    expect(cell.counterexample.outcome.kind).toBe('refused');
    expect(cell.counterexample.repro.state.startsWith(repro)).toBe(true);
    expect(fs.existsSync(cell.counterexample.repro.stream)).toBe(true);
    const replay = await runCli([
      'compat',
      '--from',
      '7.2',
      '--to',
      'unversioned-append',
      '--machine',
      'pc-q35-7.2',
      '--state',
      cell.counterexample.repro.state,
    ]);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toMatch(
      /7\.2 -> unversioned-append on pc-q35-7\.2: refused by the destination/,
    );
    expect(replay.stdout).toMatch(/BREAKS THE PROPERTY/);
  });

  it('--machine all runs every machine type both know', async () => {
    const r = await runCli([
      'compat',
      '--from',
      'next',
      '--to',
      '7.2',
      '--machine',
      'all',
      '--runs',
      '3',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).cells.length).toBe(32);
  });

  it('usage errors exit 2', async () => {
    expect((await runCli(['compat', '--runs', '0'])).code).toBe(2);
    expect((await runCli(['compat', '--from', 'nope'])).code).toBe(2);
    expect((await runCli(['compat', '--json', '--html', path.join(tmp, 'x.html')])).code).toBe(2);
  });
});
