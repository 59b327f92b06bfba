/**
 * `vmstate releases` and `vmstate generate` through their command bodies and runCommand (the
 * same path the CLI takes): exit codes, refusal messages, files written whole or not at all,
 * and the JSON state format.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCommand } from '../src/cli/exit';
import { RELEASE_NAMES, releases, releasesOfKind } from '../vmstate/releases';
import { runGenerate, runReleases, type GenerateCliOptions } from '../src/cli/run/releases';
import { generateStream } from '../vmstate/releases/generate';
import { scenario } from '../vmstate/x86/scenarios';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-gen-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  process.exitCode = undefined;
});

/** Runs `generate` as the CLI would; returns the exit code and what went to stderr. */
async function generate(opts: GenerateCliOptions): Promise<{ code: number; stderr: string }> {
  const chunks: string[] = [];
  const spy = jest
    .spyOn(process.stderr, 'write')
    .mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
  process.exitCode = undefined;
  try {
    await runCommand(opts.state, async () => {
      process.exitCode = await runGenerate(opts);
    });
  } finally {
    spy.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, stderr: chunks.join('') };
}

describe('vmstate generate', () => {
  it('writes the scenario stream (same bytes as the golden file)', async () => {
    const out = path.join(dir, 'a.mig');
    expect(await generate({ release: '7.2', scenario: 'vmx-l2-shadow', output: out })).toEqual({
      code: 0,
      stderr: '',
    });
    const golden = fs.readFileSync(
      path.join(__dirname, '..', 'streams', 'golden', '7.2', 'vmx-l2-shadow.mig'),
    );
    expect(fs.readFileSync(out).equals(golden)).toBe(true);
  });

  it('exits 1 with the blocker text and writes nothing when the release refuses', async () => {
    const out = path.join(dir, 'b.mig');
    const r = await generate({ release: '3.1', scenario: 'vmx-root', output: out });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Nested VMX virtualization does not support live migration yet');
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('exits 1 explaining the loss; --lossy writes what that QEMU wrote and says what was lost', async () => {
    const out = path.join(dir, 'c.mig');
    const refused = await generate({ release: '3.0', scenario: 'vmx-root', output: out });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/QEMU 3\.0 has no nested-state migration.*--lossy/);
    const lossy = await generate({
      release: '3.0',
      scenario: 'vmx-root',
      output: out,
      lossy: true,
    });
    expect(lossy.code).toBe(0);
    expect(lossy.stderr).toMatch(/written with state lost/);
    expect(fs.statSync(out).size).toBeGreaterThan(0);
  });

  it('usage errors exit 2: unknown release, scenario or machine, and both or neither of --scenario/--state', async () => {
    const out = path.join(dir, 'd.mig');
    for (const opts of [
      { release: '9.9', scenario: 'no-nested', output: out },
      { release: '7.2', scenario: 'nope', output: out },
      { release: '7.2', scenario: 'no-nested', machine: 'pc-q35-9.0', output: out },
      { release: '7.2', output: out },
      { release: '7.2', scenario: 'no-nested', state: 'x.json', output: out },
    ])
      expect((await generate(opts)).code).toBe(2);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('--write-state then --state gives the same stream as the scenario', async () => {
    const json = path.join(dir, 'svm.json');
    expect((await generate({ release: 'next', scenario: 'svm-l2', writeState: json })).code).toBe(
      0,
    );
    const text = fs.readFileSync(json, 'utf8');
    const file = JSON.parse(text);
    expect(file.format).toBe('vmstate-lab/vm-state@1');
    expect(file.ctx).toEqual({
      accel: 'kvm',
      cpu: { svm: true },
      kvm: { nestedStateMax: 4224, exceptionPayload: true },
    });
    expect(file.sections.cpu['env.eip']).toBe('0xffffffff81b8e4f6'); // 64-bit values as hex strings
    expect(typeof file.sections.cpu['env.nested_state']['data.svm[0].vmcb12']).toBe('string'); // pages as hex
    const out = path.join(dir, 'svm.mig');
    expect((await generate({ release: 'next', state: json, output: out })).code).toBe(0);
    const direct = generateStream(releases.next, releases.next.defaultMachine, scenario('svm-l2')!);
    expect(direct.ok && fs.readFileSync(out).equals(Buffer.from(direct.bytes))).toBe(true);
  });

  it('a state file only needs what differs from a reset vCPU', async () => {
    const json = path.join(dir, 'small.json');
    fs.writeFileSync(
      json,
      JSON.stringify({
        ctx: { accel: 'tcg' },
        sections: { cpu: { 'env.eip': '0x1234', 'env.regs': Array(16).fill('0') } },
      }),
    );
    const out = path.join(dir, 'small.mig');
    expect((await generate({ release: '7.2', state: json, output: out })).code).toBe(0);
    const bytes = fs.readFileSync(out);
    expect(bytes.includes(Buffer.from('cpu/poll_control_msr'))).toBe(true); // TCG's reset value 0 is sent
    expect(bytes.includes(Buffer.from('\x05timer', 'latin1'))).toBe(true); // sections left out are a reset VM's
    expect(bytes.includes(Buffer.from('\x0acpu_common', 'latin1'))).toBe(true);
  });

  it('bad state files exit 3 naming the problem', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ctx: {}, sections: { cpu: { 'env.nope': 1 } } }, /unknown field 'env\.nope'/],
      [{ ctx: {}, sections: { cpu: { 'env.eip': 12.5 } } }, /env\.eip: expected a 64-bit integer/],
      [{ ctx: {}, sections: { cpu: { 'env.regs': [1, 2] } } }, /expected 16 elements/],
      [{ ctx: {}, sections: { cpu: { 'env.hflags': -1 } } }, /env\.hflags/],
      [{ ctx: {}, sections: { nope: {} } }, /no section 'nope'/],
      [{ ctx: { accel: 'xen' }, sections: {} }, /ctx\.accel/],
      [{ format: 'other@2', ctx: {}, sections: {} }, /format/],
      // The envelope is checked by its schema: every key where it is wrong.
      [{ sections: {} }, /state file: ctx: /],
      [{ ctx: {}, sections: null }, /state file: sections: /],
      [{ ctx: { kvm: { nestedStateMax: 1e15 } }, sections: {} }, /ctx\.kvm\.nestedStateMax/],
      [{ ctx: { kvm: { nestedStateMax: -1 } }, sections: {} }, /ctx\.kvm\.nestedStateMax/],
      [{ ctx: { cpu: { vmx: 'yes' } }, sections: {} }, /ctx\.cpu\.vmx/],
    ];
    for (const [content, msg] of cases) {
      const json = path.join(dir, 'bad.json');
      fs.writeFileSync(json, JSON.stringify(content));
      const r = await generate({ release: '7.2', state: json, output: path.join(dir, 'bad.mig') });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(msg);
    }
    fs.writeFileSync(path.join(dir, 'bad.json'), '{ not json');
    expect(
      (
        await generate({
          release: '7.2',
          state: path.join(dir, 'bad.json'),
          output: path.join(dir, 'bad.mig'),
        })
      ).code,
    ).toBe(3);
    expect(fs.existsSync(path.join(dir, 'bad.mig'))).toBe(false);
  });
});

describe('vmstate releases', () => {
  it('--json lists releases with their machine types and cpu subsections, the designs and the scenarios', () => {
    const chunks: string[] = [];
    const spy = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
    try {
      runReleases({ json: true });
    } finally {
      spy.mockRestore();
    }
    const out = JSON.parse(chunks.join(''));
    expect(out.releases.map((r: { name: string }) => r.name)).toEqual(RELEASE_NAMES);
    // Each marked real or simulated; a real release lists its own newest pc and q35.
    const real = releasesOfKind('real').map((r) => r.name);
    expect(real.length).toBeGreaterThan(0);
    for (const r of out.releases as {
      name: string;
      kind: string;
      machineTypes: { name: string }[];
    }[]) {
      expect(r.kind).toBe(real.includes(r.name) ? 'real' : 'simulated');
      if (r.kind === 'real')
        for (const family of ['pc-i440fx', 'pc-q35'])
          expect(r.machineTypes.map((m) => m.name)).toContain(`${family}-${r.name}`);
    }
    expect(out.designs.map((r: { name: string }) => r.name)).toEqual([
      'blob',
      'subsections',
      'unversioned-append',
    ]);
    const r41 = out.releases.find((r: { name: string }) => r.name === '4.1');
    expect(r41.nestedTree.map((l: string) => l.trim())).toEqual([
      'cpu/nested_state',
      'cpu/kvm_nested_state/vmx',
      'cpu/kvm_nested_state/vmx/vmcs12',
      'cpu/kvm_nested_state/vmx/shadow_vmcs12',
    ]);
    const m = r41.machineTypes.find((x: { name: string }) => x.name === 'pc-i440fx-2.11');
    expect(m.compatProps).toContainEqual({
      driver: 'x86_64-cpu',
      property: 'x-migrate-smi-count',
      value: 'off',
    });
    expect(out.scenarios.map((s: { name: string }) => s.name)).toContain('vmx-l2-preemption-timer');
  });
});
