/**
 * The 7.2 device catalog against the three real QEMU 7.2 streams: every FULL section decodes
 * with its catalog description, consumes exactly the bytes up to its footer, encodes back
 * byte for byte, and describes itself exactly as the stream's own vmdesc does. The section
 * boundaries come from the stream layer (which cuts by the vmdesc), not from the catalog; a
 * second walk then finds them with the catalog alone.
 */
import { readStreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';
import { catalogFor, catalogResolver } from '../vmstate/catalog-7.2';
import {
  checkStreamWithCatalog,
  expectedVerdicts,
  verdicts,
  type StreamCheck,
} from './support/catalog-check';
import { readStream, REAL_STREAMS } from './fixtures/qemu-streams';

/** Sections each machine sends without default devices (README of the fixtures), cpu included. */
const NODEFAULTS_SECTIONS: Record<'pc' | 'q35', string[]> = {
  pc: [
    'timer',
    'cpu_common',
    'cpu',
    'kvm-tpr-opt',
    'apic',
    'fw_cfg',
    'PCIHost',
    'PCIBUS',
    '0000:00:00.0/I440FX',
    'dma',
    'dma',
    '0000:00:01.0/PIIX3',
    'i8259',
    'i8259',
    'ioapic',
    'hpet',
    'mc146818rtc',
    'i8254',
    'pcspk',
    'fdc',
    'ps2kbd',
    'ps2mouse',
    'pckbd',
    'vmmouse',
    'port92',
    '0000:00:01.1/ide',
    'i2c_bus',
    '0000:00:01.3/piix4_pm',
    'acpi_build',
    'globalstate',
  ],
  q35: [
    'timer',
    'cpu_common',
    'cpu',
    'kvm-tpr-opt',
    'apic',
    'fw_cfg',
    '0000:00:00.0/mch',
    'PCIHost',
    'PCIBUS',
    'dma',
    'dma',
    '0000:00:1f.0/ICH9LPC',
    'i8259',
    'i8259',
    'ioapic',
    'hpet',
    'mc146818rtc',
    'i8254',
    'pcspk',
    'ps2kbd',
    'ps2mouse',
    'pckbd',
    'vmmouse',
    'port92',
    '0000:00:1f.2/ich9_ahci',
    'i2c_bus',
    '0000:00:1f.3/ich9_smb',
    'acpi_build',
    'globalstate',
  ],
};

describe.each(REAL_STREAMS)('real 7.2 stream %s', (name) => {
  const bytes = readStream(name);
  let c: StreamCheck;
  beforeAll(async () => {
    c = await checkStreamWithCatalog(bytes);
  });

  it('has only sections the catalog knows, in the layout the fixtures document', () => {
    expect(c.unknown).toEqual([]);
    expect(c.checks.map((x) => x.idstr)).toEqual(
      NODEFAULTS_SECTIONS[name.startsWith('q35') ? 'q35' : 'pc'],
    );
    expect(c.catalog.machineType).toBe(c.machineType);
  });

  it('decodes every section to its footer and encodes it back byte for byte', () => {
    expect(verdicts(c)).toEqual(expectedVerdicts(c));
  });

  it("describes every section exactly as the stream's vmdesc does", () => {
    for (const x of c.checks)
      expect({ section: x.label, vmdesc: x.ours }).toEqual({ section: x.label, vmdesc: x.theirs });
  });

  it('sends the subsections the fixtures document, and no others', () => {
    const pcSubs = [
      'fdc: fdrive/media_rate',
      'fdc: fdrive/media_rate',
      '0000:00:01.3/piix4_pm: piix4_pm/memhp',
    ];
    const q35Subs = [
      '0000:00:1f.0/ICH9LPC: ich9_pm/memhp',
      '0000:00:1f.0/ICH9LPC: ich9_pm/tco',
      '0000:00:1f.0/ICH9LPC: ich9_pm/pcihp',
    ];
    const common = [
      'cpu: cpu/poll_control_msr',
      'fw_cfg: fw_cfg/dma',
      'fw_cfg: fw_cfg/acpi_mr',
      'pckbd: pckbd/extended_state',
    ];
    expect([...c.subsections].sort()).toEqual(
      [...common, ...(name.startsWith('q35') ? q35Subs : pcSubs)].sort(),
    );
  });

  it('walks the stream with the catalog alone (no vmdesc): every section decoded by the catalog', async () => {
    const catalog = catalogFor(c.machineType);
    const contents = await readStreamContents(bytesSource(bytes), {
      useVmdesc: false,
      opaqueFallback: false,
      resolvers: [catalogResolver(catalog)],
    });
    const sections = contents.entries.flatMap((e) => (e.type === 'section' ? [e.section] : []));
    expect(sections.map((s) => `${s.idstr}:${s.decodedBy}`)).toEqual(
      c.checks.map((x) => `${x.idstr}:catalog`),
    );
    // The catalog cut every body exactly where the vmdesc-driven walk cut it.
    expect(sections.map((s) => s.body.length)).toEqual(c.checks.map((x) => x.bodyLength));
  });
});
