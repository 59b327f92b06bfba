/**
 * `vmstate analyze` shows a cpu section's KVM nested state in the kernel's terms: flag names,
 * the header, and the vmcs12 / vmcb12 pages decoded into named fields.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { releases } from '../vmstate/releases';
import { generateStream } from '../vmstate/releases/generate';
import { scenario } from '../vmstate/x86/scenarios';
import { decodeVmcb, decodeVmcs12 } from '../vmstate/x86/kvm';
import { runCli } from './fixtures/run-cli';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-nested-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function streamOf(
  name: string,
  release = '7.2',
): { file: string; nested: Record<string, unknown> } {
  const s = scenario(name)!;
  const out = generateStream(releases[release], releases[release].defaultMachine, {
    ctx: s.ctx,
    state: s.state,
  });
  if (!out.ok) throw new Error(out.message);
  const file = path.join(dir, `${name}-${release}.mig`);
  fs.writeFileSync(file, out.bytes);
  return { file, nested: s.state.cpu['env.nested_state'] as Record<string, unknown> };
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

test('L2 under VMX with a shadow vmcs: vmcs12 and shadow vmcs12 by field name', async () => {
  const { file, nested } = streamOf('vmx-l2-shadow');
  const r = await runCli(['analyze', file, '--format', 'json']);
  expect(r.code).toBe(0);
  const cpu = JSON.parse(r.stdout).sections.find((s: { idstr: string }) => s.idstr === 'cpu');
  const expected = decodeVmcs12(nested['data.vmx[0].vmcs12'] as Uint8Array);
  expect(cpu.nested.format).toBe('VMX');
  expect(cpu.nested.flags).toEqual(['GUEST_MODE']);
  expect(cpu.nested.header['hdr.vmx.vmcs12_pa']).toBe(hex(nested['hdr.vmx.vmcs12_pa'] as bigint));
  expect(cpu.nested.vmcs12.revision_id).toBe(expected.revision_id);
  expect(cpu.nested.vmcs12.guest_rip).toBe(hex(expected.guest_rip as bigint));
  expect(cpu.nested.vmcs12.guest_cr3).toBe(hex(expected.guest_cr3 as bigint));
  expect(cpu.nested.shadowVmcs12.shadow_vmcs).toBe(1);
  expect(cpu.nested.problem).toBeUndefined();

  const tree = await runCli(['analyze', file, '--format', 'tree']);
  expect(tree.stdout).toContain('KVM nested state: format VMX, flags [GUEST_MODE]');
  expect(tree.stdout).toMatch(/vmcs12 \(\d+ non-zero of \d+ fields\):/);
  expect(tree.stdout).toContain(`guest_rip = ${hex(expected.guest_rip as bigint)}`);
});

test('L2 under SVM: the vmcb12 control and save areas by field name', async () => {
  const { file, nested } = streamOf('svm-l2');
  const r = await runCli(['analyze', file, '--format', 'json']);
  const cpu = JSON.parse(r.stdout).sections.find((s: { idstr: string }) => s.idstr === 'cpu');
  const expected = decodeVmcb(nested['data.svm[0].vmcb12'] as Uint8Array);
  expect(cpu.nested.format).toBe('SVM');
  expect(cpu.nested.vmcb12['control.asid']).toBe(expected['control.asid']);
  expect(cpu.nested.vmcb12['control.nested_cr3']).toBe(
    hex(expected['control.nested_cr3'] as bigint),
  );
  expect(cpu.nested.vmcb12['save.rip']).toBe(hex(expected['save.rip'] as bigint));
});

test('a cpu without nested state has no nested view', async () => {
  const { file } = streamOf('no-nested');
  const r = await runCli(['analyze', file, '--format', 'json']);
  const cpu = JSON.parse(r.stdout).sections.find((s: { idstr: string }) => s.idstr === 'cpu');
  expect(cpu.nested).toBeUndefined();
});

test('a stream without a VM description shows the nested state decoded by the catalog', async () => {
  const { file, nested } = streamOf('vmx-l2-shadow');
  const bytes = fs.readFileSync(file);
  const eof = bytes.indexOf(Buffer.from('{"page_size"')) - 6;
  expect(bytes[eof]).toBe(0);
  const bare = path.join(dir, 'vmx-l2-shadow-novmdesc.mig');
  fs.writeFileSync(bare, bytes.subarray(0, eof + 1));
  const r = await runCli(['analyze', bare, '--format', 'json']);
  expect(r.code).toBe(0);
  const cpu = JSON.parse(r.stdout).sections.find((s: { idstr: string }) => s.idstr === 'cpu');
  expect(cpu.decodedBy).toBe('catalog');
  const expected = decodeVmcs12(nested['data.vmx[0].vmcs12'] as Uint8Array);
  expect(cpu.nested.vmcs12.guest_rip).toBe(hex(expected.guest_rip as bigint));
});

test.each(['no-nested', 'vmx-root', 'vmx-l2-shadow', 'svm-l2'])(
  '--check-catalog finds a generated 7.2 stream (%s) identical to the catalog, as written by a KVM host',
  async (name) => {
    const { file } = streamOf(name);
    const r = await runCli(['analyze', file, '--check-catalog']);
    expect(r.stdout.split('\n')[0]).toMatch(/\(as written by a KVM host\): 0 section\(s\) differ$/);
    expect(r.code).toBe(0);
  },
);

/** The stream with its VM description's text changed (the be32 length framed again). */
function withDescription(file: string, edit: (json: string) => string): string {
  const bytes = fs.readFileSync(file);
  const text = bytes.toString('latin1');
  const marker = text.lastIndexOf('\u0006', text.indexOf('{"page_size"'));
  const json = edit(text.slice(marker + 5));
  expect(json).not.toBe(text.slice(marker + 5));
  const head = Buffer.alloc(5);
  head[0] = 6;
  head.writeUInt32BE(json.length, 1);
  const out = file.replace(/\.mig$/, `-edited-${Math.random().toString(36).slice(2)}.mig`);
  fs.writeFileSync(
    out,
    Buffer.concat([bytes.subarray(0, marker), head, Buffer.from(json, 'latin1')]),
  );
  return out;
}

test.each([
  ['buffer', '"type": "buffer", "size": 8'],
  ['bool', '"type": "bool", "size": 8'],
])(
  'a nested-state field the description types as %s is reported as not shown, never a crash',
  async (_, replacement) => {
    const { file } = streamOf('vmx-l2-shadow');
    const edited = withDescription(file, (j) =>
      j.replace(
        '"name": "hdr.vmx.vmcs12_pa", "type": "uint64", "size": 8',
        `"name": "hdr.vmx.vmcs12_pa", ${replacement}`,
      ),
    );
    const r = await runCli(['analyze', edited, '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cpu = JSON.parse(r.stdout).sections.find((s: { idstr: string }) => s.idstr === 'cpu');
    expect(cpu.nested.problem.message).toMatch(/not shown.*hdr\.vmx\.vmcs12_pa/);
    expect(cpu.nested.vmcs12.revision_id).toBeDefined();
    const tree = await runCli(['analyze', edited, '--format', 'tree']);
    expect(tree.code).toBe(0);
    expect(tree.stdout).toMatch(/inconsistent: not shown.*hdr\.vmx\.vmcs12_pa/);
  },
);

test('a nested-state format the description types as a buffer cannot be shown, and says so', async () => {
  const { file } = streamOf('vmx-l2-shadow');
  const edited = withDescription(file, (j) =>
    j.replace(
      '"name": "format", "type": "uint16", "size": 2',
      '"name": "format", "type": "buffer", "size": 2',
    ),
  );
  const r = await runCli(['analyze', edited, '--format', 'json']);
  expect(r.code).toBe(0);
  const cpu = JSON.parse(r.stdout).sections.find((s: { idstr: string }) => s.idstr === 'cpu');
  expect(cpu.nested.problem.message).toMatch(
    /cannot show the nested state: format is a 2-byte buffer/,
  );
});
