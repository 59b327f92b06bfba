/**
 * What each real release's catalog holds, as data: the sections of QEMU 7.2's x86 pc and q35
 * machines (with and without default devices) and, per release, the descriptions that differ
 * from 7.2's (checked against each release's -dump-vmstate and streams, streams/qemu-<release>/).
 * Adding a release is adding an entry here plus the device descriptions that changed in it.
 */
import type { AnyVMSDesc, Ctx, State } from '../src/dsl-kit';
import type { PmConfig } from './devices/acpi';
import { acpiBuild } from './devices/acpi_build';
import { ich9Ahci, ich9AhciUnsignedPorts } from './devices/ahci';
import { apic } from './devices/apic';
import { cpuCommon } from './devices/cpu_common';
import { e1000 } from './devices/e1000';
import { e1000e, e1000eTimadj } from './devices/e1000e';
import { isaFdc } from './devices/fdc';
import { fwCfg } from './devices/fw_cfg';
import { globalState, globalStateSuspended } from './devices/globalstate';
import { hpet, hpetNumTimersSave } from './devices/hpet';
import { i2cBus } from './devices/i2c';
import { i440fx } from './devices/i440fx';
import { i8254 } from './devices/i8254';
import { i8257 } from './devices/i8257';
import { i8259, i8259WithLtim } from './devices/i8259';
import { i6300esb } from './devices/i6300esb';
import { idePci } from './devices/ide';
import { ioapic } from './devices/ioapic';
import { kvmvapic } from './devices/kvmvapic';
import { mc146818rtc } from './devices/mc146818rtc';
import { parallelIsa } from './devices/parallel';
import {
  i8042,
  i8042V52,
  ps2Keyboard,
  ps2KeyboardV52,
  ps2Mouse,
  ps2MouseV52,
} from './devices/pckbd';
import { pcspk } from './devices/pcspk';
import { piix3 } from './devices/piix3';
import { port92 } from './devices/port92';
import { mch } from './devices/q35';
import { isaSerial } from './devices/serial';
import { slirp } from './devices/slirp';
import { ich9Smbus } from './devices/smbus';
import { timers } from './devices/timer';
import { usbKeyboard, usbPointer } from './devices/usb_hid';
import { vgaPci } from './devices/vga';
import { vmmouse } from './devices/vmmouse';
import { scsiDisk } from './devices/scsi_disk';
import { virtioBalloon, virtioBalloonV52 } from './devices/virtio_balloon';
import { virtioBlk } from './devices/virtio_blk';
import { virtioNet } from './devices/virtio_net';
import { virtioRng } from './devices/virtio_rng';
import { virtioScsi } from './devices/virtio_scsi';
import { virtioSerial } from './devices/virtio_serial';
import { VIRTIO_5_2, virtioIn } from './devices/virtio';
import { rtl8139 } from './devices/rtl8139';
import { usbEhciPci } from './devices/usb_ehci';
import { qemuXhci } from './devices/usb_xhci';
import { intelHda } from './devices/intel_hda';
import { hdaAudio, hdaDuplexReceiver } from './devices/hda_codec';
import { audio, audioV52 } from './devices/audio';
import { cpu } from './x86/cpu';

export type Chipset = 'pc' | 'q35';

/** One section the catalog decodes, before a machine type sizes it. */
export interface SectionData {
  /** The section name: the VMSD name, which is the idstr without a qdev path. */
  readonly name: string;
  readonly desc: AnyVMSDesc;
  /** The QOM type whose class vmsd this is: its key in -dump-vmstate (absent: not a device class). */
  readonly qomType?: string;
  /** A legacy save_state handler (QEMU's vmdesc: one "data" buffer). */
  readonly legacy?: boolean;
  /** Which chipset's default configuration has it. */
  readonly machines: readonly Chipset[];
  /** The x86 CPU: its receiver starts from the reset state. */
  readonly cpu?: boolean;
  /** The receiving device's state before a load, when it holds what no stream carries. */
  readonly receiver?: (ctx: Ctx) => State;
  /**
   * The instance id every instance registers with (a fixed id, not VMSTATE_INSTANCE_ID_ANY):
   * the release knows no other instance of the section ("Unknown savevm section or instance").
   */
  readonly fixedInstance?: number;
}

export interface ReleaseData {
  /** "5.2", "7.2", "10.0". */
  readonly release: string;
  /** Sections by name (PCIHost, PCIBUS and the PM functions are added per machine). */
  readonly sections: readonly SectionData[];
  /** The PM functions' shape in this release. */
  readonly pm: PmConfig;
  /** QEMU writes the configuration section into its VM description (8.x and later). */
  readonly vmdescConfiguration: boolean;
  /** How it spells its VM description: QEMU's JSON writer or the older QJSON, and array indexes. */
  readonly vmdescStyle: { readonly writer: 'json' | 'qjson'; readonly lastIndex: boolean };
  /** Its -dump-vmstate prints `num` for fixed-count arrays (10.0 does, 7.2 and 5.2 do not). */
  readonly dumpNum: boolean;
  /**
   * The machine types the catalog is checked on: those of the real-releases issue that the
   * release has (every real release's newest pc and q35, pc-q35-7.2, pc-q35-5.2, pc-i440fx-4.2,
   * pc-q35-3.1), newest of each chipset first.
   */
  readonly machineTypes: readonly string[];
  /** MIG_CMD_MAX - 1: the highest migration command it knows (10 RECV_BITMAP, 11 SWITCHOVER_START). */
  readonly maxCommand: number;
}

const both: readonly Chipset[] = ['pc', 'q35'];
const pcOnly: readonly Chipset[] = ['pc'];
const q35Only: readonly Chipset[] = ['q35'];

/** QEMU 7.2's sections: the reference the other releases are declared against. */
const SECTIONS_7_2: readonly SectionData[] = [
  { name: 'timer', desc: timers, machines: both },
  { name: 'cpu_common', desc: cpuCommon, machines: both },
  { name: 'cpu', desc: cpu, machines: both, cpu: true },
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
  // Every -netdev user registers its slirp state as instance 0 up to 7.2; 10.0 numbers them.
  { name: 'slirp', desc: slirp, legacy: true, machines: both, fixedInstance: 0 },
  // Devices of the device-rich configuration (streams/configurations.ts).
  { name: 'usb-ptr', desc: usbPointer, qomType: 'usb-tablet', machines: both },
  { name: 'usb-kbd', desc: usbKeyboard, qomType: 'usb-kbd', machines: both },
  { name: 'i6300esb_wdt', desc: i6300esb, qomType: 'i6300esb', machines: both },
  // The virtio family behind virtio-pci proxies, and the SCSI disk on virtio-scsi.
  { name: 'virtio-net', desc: virtioNet, qomType: 'virtio-net-device', machines: both },
  { name: 'virtio-blk', desc: virtioBlk, qomType: 'virtio-blk-device', machines: both },
  { name: 'virtio-scsi', desc: virtioScsi, qomType: 'virtio-scsi-device', machines: both },
  { name: 'scsi-disk', desc: scsiDisk, qomType: 'scsi-hd', machines: both },
  { name: 'virtio-balloon', desc: virtioBalloon, qomType: 'virtio-balloon-device', machines: both },
  { name: 'virtio-rng', desc: virtioRng, qomType: 'virtio-rng-device', machines: both },
  { name: 'virtio-console', desc: virtioSerial, qomType: 'virtio-serial-device', machines: both },
  { name: 'rtl8139', desc: rtl8139, qomType: 'rtl8139', machines: both },
  { name: 'ehci', desc: usbEhciPci, qomType: 'usb-ehci', machines: both },
  { name: 'xhci', desc: qemuXhci, qomType: 'qemu-xhci', machines: both },
  { name: 'intel-hda', desc: intelHda, qomType: 'intel-hda', machines: both },
  {
    name: 'hda-audio',
    desc: hdaAudio,
    qomType: 'hda-duplex',
    machines: both,
    receiver: hdaDuplexReceiver,
  },
  { name: 'audio', desc: audio, machines: both },
];

/** 7.2's sections with some replaced (same name) and some properties changed. */
function changed(
  changes: Readonly<Record<string, Partial<SectionData> & { qomType?: string | undefined }>>,
): SectionData[] {
  return SECTIONS_7_2.map((s) => (changes[s.name] ? { ...s, ...changes[s.name] } : s));
}

export const RELEASES: Readonly<Record<string, ReleaseData>> = {
  '5.2': {
    release: '5.2',
    sections: changed({
      pckbd: { desc: i8042V52 },
      // Not yet device classes of their own in 5.2 (no -dump-vmstate entry); the sections are the same.
      ps2kbd: { desc: ps2KeyboardV52, qomType: undefined },
      ps2mouse: { desc: ps2MouseV52, qomType: undefined },
      ich9_smb: { qomType: undefined },
      'virtio-net': { desc: virtioIn(virtioNet, VIRTIO_5_2) },
      'virtio-blk': { desc: virtioIn(virtioBlk, VIRTIO_5_2) },
      'virtio-scsi': { desc: virtioIn(virtioScsi, VIRTIO_5_2) },
      'virtio-balloon': { desc: virtioIn(virtioBalloonV52, VIRTIO_5_2) },
      'virtio-rng': { desc: virtioIn(virtioRng, VIRTIO_5_2) },
      'virtio-console': { desc: virtioIn(virtioSerial, VIRTIO_5_2) },
      audio: { desc: audioV52 },
    }),
    pm: { acpiIndex: false, ich9PciHotplug: false },
    vmdescConfiguration: false,
    vmdescStyle: { writer: 'qjson', lastIndex: true },
    dumpNum: false,
    machineTypes: ['pc-i440fx-5.2', 'pc-q35-5.2', 'pc-i440fx-4.2', 'pc-q35-3.1'],
    maxCommand: 10,
  },
  '7.2': {
    release: '7.2',
    sections: SECTIONS_7_2,
    pm: {},
    vmdescConfiguration: false,
    vmdescStyle: { writer: 'json', lastIndex: true },
    dumpNum: false,
    machineTypes: [
      'pc-i440fx-7.2',
      'pc-q35-7.2',
      'pc-i440fx-5.2',
      'pc-q35-5.2',
      'pc-i440fx-4.2',
      'pc-q35-3.1',
    ],
    maxCommand: 10,
  },
  '10.0': {
    release: '10.0',
    sections: changed({
      i8259: { desc: i8259WithLtim },
      hpet: { desc: hpetNumTimersSave },
      e1000e: { desc: e1000eTimadj },
      globalstate: { desc: globalStateSuspended },
      ich9_ahci: { desc: ich9AhciUnsignedPorts },
      slirp: { fixedInstance: undefined },
    }),
    pm: {},
    vmdescConfiguration: true,
    vmdescStyle: { writer: 'json', lastIndex: false },
    dumpNum: true,
    machineTypes: [
      'pc-i440fx-10.0',
      'pc-q35-10.0',
      'pc-i440fx-7.2',
      'pc-q35-7.2',
      'pc-i440fx-5.2',
      'pc-q35-5.2',
      'pc-i440fx-4.2',
      'pc-q35-3.1',
    ],
    maxCommand: 11,
  },
};

export const REAL_CATALOG_RELEASES = Object.keys(RELEASES);
