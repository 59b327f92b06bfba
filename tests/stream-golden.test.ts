import { readStreamContents, type StreamContents } from '../src/stream/collect';
import { bytesSource, fileSource } from '../src/stream/source';
import type { DescStruct } from '../src/stream/vmdesc-value';
import { groupedEntries } from '../src/stream/vmdesc-value';
import { REAL_STREAMS, readStream, streamPath, type RealStream } from './fixtures/qemu-streams';

/** Facts about each stream, as streams/qemu-7.2/README.md records how it was captured. */
const EXPECTED: Record<
  RealStream,
  {
    machine: string;
    fullSections: number;
    footers: number;
    eof: number;
    vmdescLength?: number;
    ramOffsets: [number, number, number];
    records: Record<number, number>;
  }
> = {
  'pc-nodefaults-paused': {
    machine: 'pc-i440fx-7.2',
    fullSections: 30,
    footers: 33,
    eof: 100356,
    vmdescLength: 98649,
    ramOffsets: [26, 196, 87481],
    records: { 0x04: 1, 0x02: 3, 0x22: 8316, 0x08: 3, 0x10: 3 },
  },
  'pc-nodefaults-running': {
    machine: 'pc-i440fx-7.2',
    fullSections: 30,
    footers: 33,
    eof: 100356,
    vmdescLength: 98649,
    ramOffsets: [26, 196, 87481],
    records: { 0x04: 1, 0x02: 3, 0x22: 8316, 0x08: 3, 0x10: 3 },
  },
  'q35-nodefaults-paused': {
    machine: 'pc-q35-7.2',
    fullSections: 29,
    footers: 32,
    eof: 128166,
    ramOffsets: [23, 193, 95668],
    records: { 0x04: 1, 0x02: 3, 0x22: 8314, 0x08: 3, 0x28: 2, 0x10: 3 },
  },
};

const BLOCKS = [
  ['pc.ram', 0x2000000n],
  ['/rom@etc/acpi/tables', 0x20000n],
  ['pc.bios', 0x40000n],
  ['pc.rom', 0x20000n],
  ['/rom@etc/table-loader', 0x1000n],
  ['/rom@etc/acpi/rsdp', 0x1000n],
];

function devices(c: StreamContents) {
  return c.entries.flatMap((e) => (e.type === 'section' ? [e.section] : []));
}

function field(s: DescStruct, name: string): unknown {
  const v = groupedEntries(s).find(([k]) => k === name)?.[1];
  if (v === undefined) throw new Error(`no field ${name}`);
  return v;
}

describe.each(REAL_STREAMS)('golden decode of %s', (name) => {
  let c: StreamContents;
  const exp = EXPECTED[name];
  beforeAll(async () => {
    const src = await fileSource(streamPath(name));
    try {
      c = await readStreamContents(src);
    } finally {
      await src.close();
    }
  });

  test('header, configuration, EOF and vmdesc are where the README says', () => {
    expect(c.header.version).toBe(3);
    expect(c.configuration?.offset).toBe(8);
    expect(c.configuration?.machineType).toBe(exp.machine);
    expect(c.configuration?.subsections).toEqual([]);
    expect(c.eof?.offset).toBe(exp.eof);
    expect(c.vmdesc?.offset).toBe(exp.eof + 1);
    if (exp.vmdescLength) expect(c.vmdesc?.json.length).toBe(exp.vmdescLength);
    expect(c.vmdesc!.offset + 5 + c.vmdesc!.json.length).toBe(readStream(name).length);
    expect(c.walk.vmdescFrom).toBe('end-of-file');
    expect(c.trailing).toBeUndefined();
  });

  test('every device section is decoded by its vmdesc entry and ends at its footer', () => {
    const ds = devices(c);
    expect(ds).toHaveLength(exp.fullSections);
    expect(
      ds.every(
        (s) => s.kind === 'full' && s.decodedBy === 'vmdesc' && s.footer?.sectionId === s.sectionId,
      ),
    ).toBe(true);
    const described = c.vmdesc!.desc!.devices.map((d) => `${d.name}#${d.instance_id}`);
    expect(ds.map((s) => `${s.idstr}#${s.instanceId}`)).toEqual(described);
    for (const s of ds) {
      const v = s.value as DescStruct;
      expect(v.size).toBe(s.body.length);
      expect(s.footer!.offset).toBe(s.bodyOffset + s.body.length);
    }
    expect(c.footers).toBe(exp.footers);
  });

  test('RAM sections, block list and records by flags', () => {
    const ram = c.entries.filter((e) => e.type === 'ram-section');
    expect(
      ram.map((e) => (e.type === 'ram-section' ? [e.kind, e.offset, e.sectionId] : [])),
    ).toEqual([
      ['start', exp.ramOffsets[0], 2],
      ['part', exp.ramOffsets[1], 2],
      ['end', exp.ramOffsets[2], 2],
    ]);
    expect(c.ram.blocks.map((b) => [b.name, b.length])).toEqual(BLOCKS);
    expect(Object.fromEntries(c.ram.recordsByFlags)).toEqual(exp.records);
    const pages = c.ram.blocks.reduce((n, b) => n + b.pages + b.zeroPages, 0);
    expect(pages).toBe(8322);
  });

  test('pc.ram, pc.bios and pc.rom are all zero; only the fw_cfg blocks have data pages', async () => {
    const nonZero = new Map<string, number>();
    await readStreamContents(bytesSource(readStream(name), 4096), {
      onRam: (r) => {
        if (r.kind === 'zero') expect(r.fill).toBe(0);
        if (r.kind === 'page' && r.data.some((b) => b !== 0))
          nonZero.set(r.block, (nonZero.get(r.block) ?? 0) + 1);
      },
    });
    expect([...nonZero.keys()].sort()).toEqual([
      '/rom@etc/acpi/rsdp',
      '/rom@etc/acpi/tables',
      '/rom@etc/table-loader',
    ]);
  });

  test('cpu state holds the known reset/running values', () => {
    const cpu = devices(c).find((s) => s.idstr === 'cpu')!;
    const v = cpu.value as DescStruct;
    const eip = field(v, 'env.eip') as { value: bigint };
    if (name === 'pc-nodefaults-running') expect(eip.value).not.toBe(0xfff0n);
    else expect(eip.value).toBe(0xfff0n);
    expect(cpu.versionId).toBe(12);
    expect(v.subsections.map((s) => s.name)).toEqual(['cpu/poll_control_msr']);
    const regs = field(v, 'env.regs') as unknown[];
    expect(regs).toHaveLength(16);
  });
});
