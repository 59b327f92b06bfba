/**
 * Editing streams that carry no VM description: their sections are decoded by the device
 * catalog, edited as state objects and written again by the same descriptions. Real QEMU loads
 * the result with the edited registers.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readStream } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';
import { captureStream, describeQemu, incomingFromFile } from './support/qemu';
import { STREAM_VARIANTS } from './support/stream-variants';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-edit-catalog-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The real pc stream cut after its EOF byte: what suppress-vmdesc=on writes. */
function bareStream(): string {
  const bytes = Buffer.from(readStream('pc-nodefaults-paused'));
  const eof = bytes.indexOf(Buffer.from('{"page_size"')) - 6;
  const file = path.join(dir, 'bare.mig');
  fs.writeFileSync(file, bytes.subarray(0, eof + 1));
  return file;
}

const cpuOf = async (file: string) => {
  const r = await runCli(['analyze', file, '--format', 'json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).sections.find((s: { idstr: string }) => s.idstr === 'cpu');
};

test('edits change exactly the bytes of the edited fields', async () => {
  const bare = bareStream();
  const out = path.join(dir, 'edited.mig');
  const r = await runCli([
    'edit',
    bare,
    '-o',
    out,
    '--set',
    'cpu#0/env.eip=0x1234',
    '--set',
    'cpu#0/env.regs[1]=0xdeadbeef',
    '--set',
    'cpu_common#0/halted=1',
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const a = fs.readFileSync(bare);
  const b = fs.readFileSync(out);
  expect(b.length).toBe(a.length);
  const changed: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed.push(i);
  const cpu = await cpuOf(out);
  expect(cpu.decodedBy).toBe('catalog');
  // Catalog-decoded sections have the same layout as description-decoded ones: fields with places.
  const field = (name: string) =>
    cpu.state.fields.find((f: { name: string }) => f.name === name) as {
      offset: number;
      size: number;
      value: unknown;
    };
  expect(field('env.eip')).toMatchObject({ type: 'uint64', size: 8, value: 0x1234 });
  expect(field('env.regs')).toMatchObject({ type: 'uint64', count: 16, size: 128 });
  expect((field('env.regs').value as number[])[1]).toBe(0xdeadbeef);
  // The eip field's bytes are where the JSON says: 0x1234 big-endian in its last two bytes.
  const eip = field('env.eip');
  expect(b.readBigUInt64BE(eip.offset)).toBe(0x1234n);
  // eip (2 bytes differ: 0xfff0 -> 0x1234), regs[1] (4 bytes), halted (1 byte): nothing else moved.
  expect(changed.length).toBeLessThanOrEqual(2 + 4 + 1);
  expect(changed.every((i) => i >= cpu.bodyOffset - 40 && i < cpu.bodyOffset + 140)).toBe(true);
});

test.each([
  ['cpu#0/env.regs[1]=0x10000000000000000', /does not fit/],
  ['cpu_common#0/halted=0x100000000', /does not fit/],
  ['cpu#0/env.nosuch=1', /no field 'env.nosuch'/],
  ['cpu#0/env.regs[99]=1', /out of range/],
])('%s is refused with exit 2 and nothing written', async (set, message) => {
  const out = path.join(dir, 'never.mig');
  const r = await runCli(['edit', bareStream(), '-o', out, '--set', set]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(fs.existsSync(out)).toBe(false);
});

describeQemu('QEMU loads an edited stream that has no VM description', () => {
  test('with the edited registers', async () => {
    const variant = STREAM_VARIANTS['pc-suppress-vmdesc']!;
    const file = await captureStream({ ...variant.options, out: path.join(dir, 'suppressed.mig') });
    const out = path.join(dir, 'suppressed-edited.mig');
    const e = await runCli([
      'edit',
      file,
      '-o',
      out,
      '--set',
      'cpu#0/env.eip=0x4321',
      '--set',
      'cpu#0/env.regs[0]=0xcafe',
    ]);
    expect(e.code).toBe(0);
    const r = await incomingFromFile(out, variant.options);
    if (!r.ok) throw new Error(`QEMU refused the edited stream: ${r.error}`);
    try {
      const regs = await r.vm.registers(0);
      expect(regs.ip).toBe(0x4321n);
      expect(regs.values.eax ?? regs.values.rax).toBe(0xcafen);
    } finally {
      await r.vm.close();
    }
  }, 120_000);
});
