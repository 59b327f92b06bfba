import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { qemuStateDict } from '../src/analyze/qemu-format';
import { pythonJson } from '../src/analyze/python-json';
import { UnsupportedError } from '../src/errors';
import { parseAssignment } from '../src/stream/edit';
import { fileSource } from '../src/stream/source';
import { transcodeToFile } from '../src/stream/transcode';
import { captureStream, describeQemu, incomingFromFile } from './support/qemu';
import {
  LEGACY_STREAM_VARIANTS,
  STREAM_VARIANTS,
  type StreamVariant,
} from './support/stream-variants';
import { contentsOf, reencodeBytes } from './fixtures/stream-helpers';

/**
 * The stream layer against fresh captures of every variant the harness knows (features the
 * committed fixtures lack), and edited streams loaded back into QEMU.
 */
let dir: string;
const captured = new Map<string, Uint8Array>();

async function capture(name: string, v: StreamVariant): Promise<Uint8Array> {
  const hit = captured.get(name);
  if (hit) return hit;
  const file = await captureStream({ ...v.options, out: path.join(dir, `${name}.mig`) });
  const bytes = new Uint8Array(fs.readFileSync(file));
  captured.set(name, bytes);
  return bytes;
}

describeQemu('stream layer on fresh QEMU captures', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstate-stream-qemu-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe.each(Object.entries(STREAM_VARIANTS))('%s', (name, variant) => {
    test('decodes every section and re-encodes byte for byte', async () => {
      const bytes = await capture(name, variant);
      const c = await contentsOf(bytes);
      const sections = c.entries.flatMap((e) => (e.type === 'section' ? [e.section] : []));
      expect(sections.length).toBeGreaterThan(20);
      if (variant.options.suppressVmdesc) {
        expect(c.vmdesc).toBeUndefined();
        expect(sections.every((s) => s.decodedBy === 'opaque' && s.footer)).toBe(true);
      } else {
        expect(sections.every((s) => s.decodedBy === 'vmdesc')).toBe(true);
        expect(sections.map((s) => `${s.idstr}#${s.instanceId}`)).toEqual(
          c.vmdesc!.desc!.devices.map((d) => `${d.name}#${d.instance_id}`),
        );
      }
      expect(c.footers).toBe(
        sections.length + c.entries.filter((e) => e.type === 'ram-section').length,
      );
      expect(Buffer.compare(Buffer.from(await reencodeBytes(bytes)), Buffer.from(bytes))).toBe(0);
    }, 90_000);
  });

  test('capability variants carry what they promise', async () => {
    const ign = await contentsOf(
      await capture('pc-x-ignore-shared', STREAM_VARIANTS['pc-x-ignore-shared']!),
    );
    expect(ign.configuration?.capabilities).toEqual(['x-ignore-shared']);
    expect(ign.ram.blocks.every((b) => b.mrAddr !== undefined)).toBe(true);
    const uuid = await contentsOf(
      await capture('pc-validate-uuid', STREAM_VARIANTS['pc-validate-uuid']!),
    );
    expect(uuid.configuration?.uuid).toBeDefined();
    const comp = await contentsOf(await capture('pc-compress', STREAM_VARIANTS['pc-compress']!));
    expect(comp.ram.blocks.find((b) => b.name === 'pc.ram')!.compressedPages).toBeGreaterThan(0);
    const smp = await contentsOf(await capture('pc-smp2', STREAM_VARIANTS['pc-smp2']!));
    const cpus = smp.entries.filter((e) => e.type === 'section' && e.section.idstr === 'cpu');
    expect(cpus).toHaveLength(2);
  }, 180_000);

  test('machine type 2.3 (no configuration, no footers, vmdesc) decodes and re-encodes', async () => {
    const bytes = await capture('pc-i440fx-2.3', LEGACY_STREAM_VARIANTS['pc-i440fx-2.3']!);
    const c = await contentsOf(bytes);
    expect(c.configuration).toBeUndefined();
    expect(c.footers).toBe(0);
    const sections = c.entries.flatMap((e) => (e.type === 'section' ? [e.section] : []));
    expect(sections.every((s) => s.decodedBy === 'vmdesc')).toBe(true);
    expect(Buffer.compare(Buffer.from(await reencodeBytes(bytes)), Buffer.from(bytes))).toBe(0);
  }, 90_000);

  test('machine type 2.2 (no configuration, footers or vmdesc): RAM decodes, device sections need a catalog', async () => {
    const bytes = await capture('pc-i440fx-2.2', LEGACY_STREAM_VARIANTS['pc-i440fx-2.2']!);
    await expect(contentsOf(bytes)).rejects.toBeInstanceOf(UnsupportedError);
    const err = await contentsOf(bytes).catch((e: UnsupportedError) => e);
    expect((err as UnsupportedError).offset).toBeGreaterThan(8);
  }, 90_000);

  test('an edited stream loads into QEMU with the edited registers', async () => {
    const variant = STREAM_VARIANTS['pc-nodefaults-paused']!;
    await capture('pc-nodefaults-paused', variant);
    const out = path.join(dir, 'edited.mig');
    const src = await fileSource(path.join(dir, 'pc-nodefaults-paused.mig'));
    await transcodeToFile(src, out, {
      assignments: [
        'cpu#0/env.eip=0x1234',
        'cpu#0/env.regs[0]=0xdeadbeef',
        'cpu#0/env.regs[3]=0x5a5a',
      ].map(parseAssignment),
    }).finally(() => src.close());
    const r = await incomingFromFile(out, variant.options);
    if (!r.ok) throw new Error(`QEMU refused the edited stream: ${r.error}`);
    try {
      const regs = await r.vm.registers(0);
      expect(regs.ip).toBe(0x1234n);
      expect(regs.values.eax ?? regs.values.rax).toBe(0xdeadbeefn);
      expect(regs.values.ebx ?? regs.values.rbx).toBe(0x5a5an);
    } finally {
      await r.vm.close();
    }
    // ... and the analysis of the edited stream differs from the original only there.
    const before = JSON.parse(
      pythonJson(qemuStateDict(await contentsOf(captured.get('pc-nodefaults-paused')!))),
    );
    const after = JSON.parse(
      pythonJson(qemuStateDict(await contentsOf(new Uint8Array(fs.readFileSync(out))))),
    );
    const cpuKey = Object.keys(before).find((k) => k.startsWith('cpu ('))!;
    before[cpuKey]['env.eip'] = '0x0000000000001234';
    before[cpuKey]['env.regs'][0] = '0x00000000deadbeef';
    before[cpuKey]['env.regs'][3] = '0x0000000000005a5a';
    expect(after).toEqual(before);
  }, 120_000);
});
