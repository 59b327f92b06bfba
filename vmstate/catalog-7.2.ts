/**
 * The device catalog of QEMU 7.2's x86 `pc` (i440FX) and `q35` machines: every section those
 * machines send, with and without their default devices, keyed by section name (the VMSD name;
 * a stream's idstr adds the device's qdev path in front, e.g. "0000:00:1f.2/ich9_ahci").
 * Only `ram` is missing: it is an iterative section with its own record format (src/stream).
 */
import {
  loadFrom,
  saveDescribed,
  saveInto,
  type AnyVMSDesc,
  type ByteReader,
  type Ctx,
  type State,
} from '../src';
import type { CodecResolver, SectionCodec, SectionInfo } from '../src/stream/section';
import { sectionPath } from '../src/stream/section';
import type { VmdescVMSD } from '../src/engine/vmdesc-types';
import { acpiBuild } from './devices/acpi_build';
import { ich9Ahci } from './devices/ahci';
import { apic } from './devices/apic';
import { cpuCommon } from './devices/cpu_common';
import { e1000 } from './devices/e1000';
import { e1000e } from './devices/e1000e';
import { isaFdc } from './devices/fdc';
import { fwCfg } from './devices/fw_cfg';
import { globalState } from './devices/globalstate';
import { hpet } from './devices/hpet';
import { i2cBus } from './devices/i2c';
import { i440fx } from './devices/i440fx';
import { i8254 } from './devices/i8254';
import { i8257 } from './devices/i8257';
import { i8259 } from './devices/i8259';
import { idePci } from './devices/ide';
import { ioapic } from './devices/ioapic';
import { kvmvapic } from './devices/kvmvapic';
import { ich9LpcDescription } from './devices/lpc_ich9';
import { mc146818rtc } from './devices/mc146818rtc';
import { parallelIsa } from './devices/parallel';
import { i8042, ps2Keyboard, ps2Mouse } from './devices/pckbd';
import { pcspk } from './devices/pcspk';
import { pciBus, pciHost } from './devices/pci';
import { piix3 } from './devices/piix3';
import { piix4PmDescription } from './devices/piix4_pm';
import { port92 } from './devices/port92';
import { mch } from './devices/q35';
import { isaSerial } from './devices/serial';
import { slirp } from './devices/slirp';
import { ich9Smbus } from './devices/smbus';
import { timers } from './devices/timer';
import { vgaPci } from './devices/vga';
import { vmmouse } from './devices/vmmouse';
import { cpu } from './x86/cpu';
import type { X86Ctx } from './x86/ctx';
import { cpuResetState } from './x86/reset';

export type Machine72 = 'pc' | 'q35';

export interface CatalogEntry {
  /** The section name: the VMSD name, which is the idstr without a qdev path. */
  readonly name: string;
  readonly desc: AnyVMSDesc;
  /**
   * The QOM type whose class vmsd this is, i.e. its key in `-dump-vmstate` output; absent for
   * sections registered some other way (vCPUs, buses, the machine, migration itself), which
   * the dump does not list.
   */
  readonly qomType?: string;
  /**
   * A legacy save_state handler rather than a VMSD: QEMU's vmdesc describes it only as
   * `{size, fields: [{name: "data", type: "buffer"}]}`; `desc` still decodes its body.
   */
  readonly legacy?: boolean;
  /** Which machine's default configuration has it. */
  readonly machines: readonly Machine72[];
  /**
   * The receiving device's state before a load, when fields a stream may lack must keep values
   * other than zero (the x86 CPU's reset state). Absent: the description's initial state.
   */
  readonly receiverState?: (ctx: Ctx) => State;
}

export interface Catalog {
  readonly machine: Machine72;
  /** The versioned machine type the catalog describes, as the configuration section names it. */
  readonly machineType: string;
  readonly entries: ReadonlyMap<string, CatalogEntry>;
  /** The entry for a stream idstr, with or without its qdev path ("0000:00:01.1/ide" or "ide"). */
  lookup(idstr: string): CatalogEntry | undefined;
}

const both: readonly Machine72[] = ['pc', 'q35'];
const pcOnly: readonly Machine72[] = ['pc'];
const q35Only: readonly Machine72[] = ['q35'];

/**
 * Sections whose description depends on nothing but the release. PCIBUS (its IRQ count differs
 * between the chipsets) and the two power-management functions (their hotplug tables have one
 * entry per DIMM slot and per possible vCPU) are added per machine and configuration below.
 */
const shared: CatalogEntry[] = [
  { name: 'timer', desc: timers, machines: both },
  { name: 'cpu_common', desc: cpuCommon, machines: both },
  { name: 'cpu', desc: cpu, machines: both, receiverState: (ctx) => cpuResetState(ctx as X86Ctx) },
  { name: 'kvm-tpr-opt', desc: kvmvapic, qomType: 'kvmvapic', machines: both },
  { name: 'apic', desc: apic, machines: both },
  { name: 'fw_cfg', desc: fwCfg, qomType: 'fw_cfg_io', machines: both },
  { name: 'dma', desc: i8257, qomType: 'i8257', machines: both },
  { name: 'i8259', desc: i8259, qomType: 'isa-i8259', machines: both },
  { name: 'ioapic', desc: ioapic, qomType: 'ioapic', machines: both },
  { name: 'hpet', desc: hpet, qomType: 'hpet', machines: both },
  { name: 'mc146818rtc', desc: mc146818rtc, qomType: 'mc146818rtc', machines: both },
  { name: 'i8254', desc: i8254, qomType: 'isa-pit', machines: both },
  { name: 'pcspk', desc: pcspk, qomType: 'isa-pcspk', machines: both },
  { name: 'ps2kbd', desc: ps2Keyboard, qomType: 'ps2-kbd', machines: both },
  { name: 'ps2mouse', desc: ps2Mouse, qomType: 'ps2-mouse', machines: both },
  { name: 'pckbd', desc: i8042, qomType: 'i8042', machines: both },
  { name: 'vmmouse', desc: vmmouse, qomType: 'vmmouse', machines: both },
  { name: 'port92', desc: port92, qomType: 'port92', machines: both },
  { name: 'i2c_bus', desc: i2cBus, machines: both },
  { name: 'acpi_build', desc: acpiBuild, machines: both },
  { name: 'globalstate', desc: globalState, machines: both },
  // The i440FX chipset and its PIIX3/PIIX4 functions.
  { name: 'I440FX', desc: i440fx, qomType: 'i440FX', machines: pcOnly },
  { name: 'PIIX3', desc: piix3, qomType: 'PIIX3', machines: pcOnly },
  { name: 'ide', desc: idePci, machines: pcOnly },
  { name: 'fdc', desc: isaFdc, qomType: 'isa-fdc', machines: pcOnly },
  // The Q35 chipset and its ICH9 functions.
  { name: 'mch', desc: mch, qomType: 'mch', machines: q35Only },
  { name: 'ich9_ahci', desc: ich9Ahci, qomType: 'ich9-ahci', machines: q35Only },
  { name: 'ich9_smb', desc: ich9Smbus, qomType: 'ICH9-SMB', machines: q35Only },
  // What the default devices (no -nodefaults) add: VGA, serial, parallel, the NIC and its backend.
  { name: 'vga', desc: vgaPci, qomType: 'VGA', machines: both },
  { name: 'serial', desc: isaSerial, qomType: 'isa-serial', machines: both },
  { name: 'parallel_isa', desc: parallelIsa, qomType: 'isa-parallel', machines: both },
  { name: 'e1000', desc: e1000, qomType: 'e1000', machines: pcOnly },
  { name: 'e1000e', desc: e1000e, qomType: 'e1000e', machines: q35Only },
  { name: 'slirp', desc: slirp, legacy: true, machines: both },
];

/** The last path element of an idstr: "0000:00:1f.2/ich9_ahci" -> "ich9_ahci". */
export function sectionName(idstr: string): string {
  return idstr.slice(idstr.lastIndexOf('/') + 1);
}

/** The -m / -smp options whose values size arrays that are not on the wire. */
export interface MachineConfig {
  /** -m ...,slots=N: DIMM slots in the ACPI memory hotplug table (default 0). */
  readonly memorySlots?: number;
  /** -smp ...,maxcpus=N: entries in the ACPI CPU hotplug table (default 1). */
  readonly maxCpus?: number;
}

function makeCatalog(
  machine: Machine72,
  machineType: string,
  hostQomType: string,
  nirq: number,
  config: MachineConfig,
): Catalog {
  const tables = { memorySlots: config.memorySlots ?? 0, possibleCpus: config.maxCpus ?? 1 };
  const entries = new Map<string, CatalogEntry>();
  for (const e of shared) entries.set(e.name, e);
  const add = (e: CatalogEntry) => entries.set(e.name, e);
  add({ name: 'PCIHost', desc: pciHost, qomType: hostQomType, machines: [machine] });
  add({ name: 'PCIBUS', desc: pciBus(nirq), machines: [machine] });
  add({
    name: 'piix4_pm',
    desc: piix4PmDescription(tables),
    qomType: 'PIIX4_PM',
    machines: pcOnly,
  });
  add({
    name: 'ICH9LPC',
    desc: ich9LpcDescription(tables),
    qomType: 'ICH9-LPC',
    machines: q35Only,
  });
  return {
    machine,
    machineType,
    entries,
    lookup: (idstr) => entries.get(idstr) ?? entries.get(sectionName(idstr)),
  };
}

/** Both machines' catalogs. Devices of the other machine are there too (one can plug an e1000 into q35). */
export const CATALOG_7_2: Readonly<Record<Machine72, Catalog>> = {
  pc: makeCatalog('pc', 'pc-i440fx-7.2', 'i440FX-pcihost', 4, {}),
  q35: makeCatalog('q35', 'pc-q35-7.2', 'q35-pcihost', 8, {}),
};

/**
 * The catalog for a machine type as a stream's configuration section or -M names it ('pc',
 * 'pc-q35-7.2'...), for the default -m/-smp configuration unless `config` says otherwise.
 */
export function catalogFor(machineType: string | undefined, config: MachineConfig = {}): Catalog {
  const q35 = machineType !== undefined && /q35/.test(machineType);
  if (config.memorySlots === undefined && config.maxCpus === undefined)
    return q35 ? CATALOG_7_2.q35 : CATALOG_7_2.pc;
  return q35
    ? makeCatalog('q35', 'pc-q35-7.2', 'q35-pcihost', 8, config)
    : makeCatalog('pc', 'pc-i440fx-7.2', 'i440FX-pcihost', 4, config);
}

/** Reads one section body into the entry's receiver state, leaving the reader after it. */
export function loadSection(
  entry: CatalogEntry,
  r: ByteReader,
  version: number,
  ctx: Ctx = {},
  path?: string,
): State {
  return loadFrom(r, entry.desc, version, { ctx, path, into: entry.receiverState?.(ctx) });
}

/** A legacy section's vmdesc entry body, as QEMU writes it for a save_state handler. */
export interface LegacyVmdesc {
  size: number;
  fields: [{ name: 'data'; type: 'buffer'; size: number }];
}

/**
 * Writes a section body from a state and returns it with the vmdesc entry QEMU would write for
 * it (without the `name` / `instance_id` keys the stream layer adds).
 */
export function saveSection(
  entry: CatalogEntry,
  state: State,
  ctx: Ctx = {},
): { bytes: Uint8Array; vmdesc: VmdescVMSD | LegacyVmdesc } {
  const { bytes, vmdesc } = saveDescribed(entry.desc, state, { ctx });
  if (!entry.legacy) return { bytes, vmdesc };
  return {
    bytes,
    vmdesc: { size: bytes.length, fields: [{ name: 'data', type: 'buffer', size: bytes.length }] },
  };
}

/** Plugs a catalog into the stream walker: FULL sections it knows are decoded (and re-encoded) by it. */
export function catalogResolver(catalog: Catalog, ctx: Ctx = {}): CodecResolver {
  const codecs = new Map<CatalogEntry, SectionCodec<State>>();
  return (section: SectionInfo, kind) => {
    if (kind !== 'full') return undefined;
    const entry = catalog.lookup(section.idstr);
    if (!entry) return undefined;
    let codec = codecs.get(entry);
    if (!codec) {
      codec = {
        name: 'catalog',
        decode: (r, s) => loadSection(entry, r, s.versionId, ctx, sectionPath(s)),
        encode: (w, value, s) => void saveInto(w, entry.desc, value, { ctx, path: sectionPath(s) }),
      };
      codecs.set(entry, codec);
    }
    return codec as SectionCodec;
  };
}
