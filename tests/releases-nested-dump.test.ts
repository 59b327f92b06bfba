/**
 * `vmstate generate --nested-state FILE`: a KVM_GET_NESTED_STATE dump (the kernel's raw
 * struct kvm_nested_state) goes into the vCPU and travels in the cpu/nested_state subsections.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildNestedState, type NestedState } from '../vmstate/x86/kvm';
import { scenario } from '../vmstate/x86/scenarios';
import { runCli } from './fixtures/run-cli';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-dump-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const nestedOf = (name: string) => ({
  ...(scenario(name)!.state.cpu['env.nested_state'] as unknown as NestedState),
});

test('a dump replaces the vCPU nested state, and analyze shows it back', async () => {
  const nested = nestedOf('vmx-l2-shadow');
  nested['hdr.vmx.vmcs12_pa'] = 0x7654_3000n;
  const blob = path.join(dir, 'nested.bin');
  fs.writeFileSync(blob, buildNestedState(nested));
  const out = path.join(dir, 'dump.mig');
  const g = await runCli([
    'generate',
    '--release',
    '7.2',
    '--scenario',
    'vmx-l2-shadow',
    '--nested-state',
    blob,
    '-o',
    out,
  ]);
  expect(g.stderr).toBe('');
  expect(g.code).toBe(0);
  const a = await runCli(['analyze', out, '--format', 'json']);
  const cpu = JSON.parse(a.stdout).sections.find((s: { idstr: string }) => s.idstr === 'cpu');
  expect(cpu.nested.header['hdr.vmx.vmcs12_pa']).toBe('0x76543000');
  expect(cpu.nested.shadowVmcs12).toBeDefined();
});

test('the unchanged dump of a scenario gives the same stream as the scenario itself', async () => {
  const blob = path.join(dir, 'same.bin');
  fs.writeFileSync(blob, buildNestedState(nestedOf('svm-l2')));
  const a = path.join(dir, 'a.mig');
  const b = path.join(dir, 'b.mig');
  expect(
    (await runCli(['generate', '--release', '7.2', '--scenario', 'svm-l2', '-o', a])).code,
  ).toBe(0);
  expect(
    (
      await runCli([
        'generate',
        '--release',
        '7.2',
        '--scenario',
        'svm-l2',
        '--nested-state',
        blob,
        '-o',
        b,
      ])
    ).code,
  ).toBe(0);
  expect(Buffer.compare(fs.readFileSync(a), fs.readFileSync(b))).toBe(0);
});

test.each([
  ['a size the data does not fill', (b: Buffer) => b.subarray(0, 4224 + 100)],
  ['an unknown format', (b: Buffer) => (b.writeUInt16LE(7, 2), b)],
  ['a header cut short', (b: Buffer) => b.subarray(0, 20)],
])('a dump with %s is refused with exit 3 and where', async (_, damage) => {
  const blob = path.join(dir, 'bad.bin');
  fs.writeFileSync(blob, damage(Buffer.from(buildNestedState(nestedOf('vmx-l2-shadow')))));
  const out = path.join(dir, 'never.mig');
  const g = await runCli([
    'generate',
    '--release',
    '7.2',
    '--scenario',
    'vmx-l2-shadow',
    '--nested-state',
    blob,
    '-o',
    out,
  ]);
  expect(g.code).toBe(3);
  expect(g.stderr).toMatch(/bad\.bin: offset 0x[0-9a-f]+, kvm_nested_state/);
  expect(fs.existsSync(out)).toBe(false);
});
