/**
 * Every catalog description against QEMU 7.2's own static description of its QOM type
 * (`-dump-vmstate` for pc and q35): versions, field names, field versions, _TEST flags, sizes
 * and subsection names, recursively through struct fields and subsections.
 *
 * Documented differences, not compared:
 * - sizes of struct fields: QEMU prints sizeof() of the C struct (PCIDevice 2608, HPETTimer 64...),
 *   which says nothing about the wire; dumpVmstateOf gives the nested wire size instead, and
 *   vmstate-static-checker.py skips sizes of struct fields too.
 * Fields whose C size differs from their wire size carry it in the catalog (dumpSize) and so
 * ARE compared: fw_cfg's cur_offset hack (4 in C, 2 on the wire), the serial Fifo8 data
 * buffer and e1000e's msix state (QEMU: 0; on the wire 16 and 81 bytes).
 */
import * as fs from 'fs';
import * as path from 'path';
import { CATALOG_7_2 } from '../vmstate/catalog-7.2';
import {
  dumpVmstateEntry,
  dumpVmstateOf,
  type DumpDescription,
  type DumpEntry,
} from '../vmstate/dump-vmstate';
import { STREAM_DIR } from './fixtures/qemu-streams';

type Dump = Record<string, DumpEntry> & { vmschkmachine: { Name: string } };
const readDump = (machine: 'pc' | 'q35'): Dump =>
  JSON.parse(fs.readFileSync(path.join(STREAM_DIR, `vmstate-${machine}.json`), 'utf8'));

/** A dump description with struct-field sizes removed (the one documented difference). */
function comparable(d: DumpDescription): DumpDescription {
  return {
    ...d,
    Fields: (d.Fields ?? []).map((f) => {
      if (!f.Description) return f;
      const { size: _size, ...rest } = f;
      return { ...rest, Description: comparable(f.Description) } as typeof f;
    }),
    ...(d.Subsections ? { Subsections: d.Subsections.map(comparable) } : {}),
  };
}

describe.each(['pc', 'q35'] as const)('-dump-vmstate of %s', (machine) => {
  const dump = readDump(machine);
  const catalog = CATALOG_7_2[machine];
  const withType = [...catalog.entries.values()].filter((e) => e.qomType);

  it('names the machine', () => {
    expect(dump.vmschkmachine.Name).toBe(catalog.machineType);
  });

  it.each(withType.map((e) => [e.name, e.qomType!] as const))(
    '%s matches the dump entry of QOM type %s',
    (name, qomType) => {
      const entry = catalog.entries.get(name)!;
      const ours = dumpVmstateEntry(qomType, entry.desc);
      const theirs = dump[qomType];
      expect(theirs).toBeDefined();
      expect({ ...ours, Description: comparable(ours.Description) }).toEqual({
        ...theirs,
        Description: comparable(theirs.Description),
      });
    },
  );

  it('has no entry for the sections the catalog registers without a QOM type', () => {
    const names = new Set(
      Object.values(dump).flatMap((v) => ('Description' in v ? [v.Description.name] : [])),
    );
    const untyped = [...catalog.entries.values()].filter((e) => !e.qomType).map((e) => e.name);
    expect(untyped.sort()).toEqual(
      [
        'PCIBUS',
        'acpi_build',
        'apic',
        'audio',
        'cpu',
        'cpu_common',
        'globalstate',
        'i2c_bus',
        'ide',
        'slirp',
        'timer',
      ].sort(),
    );
    for (const n of untyped) expect([n, names.has(n)]).toEqual([n, false]);
  });
});

describe('dumpVmstateOf', () => {
  const fwCfg = CATALOG_7_2.pc.lookup('fw_cfg')!.desc;

  it('writes the keys in the order QEMU prints them', () => {
    const d = dumpVmstateOf(fwCfg);
    expect(Object.keys(d)).toEqual([
      'name',
      'version_id',
      'minimum_version_id',
      'Fields',
      'Subsections',
    ]);
    expect(Object.keys(d.Fields[0])).toEqual(['field', 'version_id', 'field_exists', 'size']);
  });

  it('reports C sizes where the catalog declares them, and _TEST fields as field_exists', () => {
    expect(dumpVmstateOf(fwCfg).Fields).toEqual([
      { field: 'cur_entry', version_id: 0, field_exists: false, size: 2 },
      { field: 'cur_offset', version_id: 0, field_exists: true, size: 4 },
      { field: 'cur_offset', version_id: 2, field_exists: false, size: 4 },
    ]);
  });

  it('leaves VMSTATE_VALIDATE entries out, as QEMU does', () => {
    const hpet = dumpVmstateOf(CATALOG_7_2.pc.lookup('hpet')!.desc);
    expect(hpet.Fields.map((f) => f.field)).toEqual([
      'config',
      'isr',
      'hpet_counter',
      'num_timers',
      'timer',
    ]);
  });

  it('prints num for fixed arrays only when asked (QEMU 7.2 never does)', () => {
    const ioapic = CATALOG_7_2.pc.lookup('ioapic')!.desc;
    expect(dumpVmstateOf(ioapic).Fields.at(-1)).toEqual({
      field: 'ioredtbl',
      version_id: 0,
      field_exists: false,
      size: 8,
    });
    expect(dumpVmstateOf(ioapic, { num: true }).Fields.at(-1)).toEqual({
      field: 'ioredtbl',
      version_id: 0,
      field_exists: false,
      num: 24,
      size: 8,
    });
  });
});
