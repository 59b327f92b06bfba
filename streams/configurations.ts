/**
 * The VM configurations every real release is captured in (issue 8, item 3), as data: which
 * machine types each real release is checked on, and the capture options of each configuration.
 * streams/capture.ts (--release, --config) and the tests read this one list.
 *
 * Everything stays firmware-free as the harness demands: the zero BIOS, -nodefaults or default
 * devices with their ROMs off, and `romfile=` on every device that would bring an option ROM.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CaptureOptions, RealRelease } from '../tests/support/qemu';

/**
 * The machine types each release is checked on: its newest pc and q35, then pc-q35-7.2,
 * pc-q35-5.2, pc-i440fx-4.2 and pc-q35-3.1 where the release has them.
 */
export const RELEASE_MACHINE_TYPES: Readonly<Record<RealRelease, readonly string[]>> = {
  '5.2': ['pc-i440fx-5.2', 'pc-q35-5.2', 'pc-i440fx-4.2', 'pc-q35-3.1'],
  '7.2': ['pc-i440fx-7.2', 'pc-q35-7.2', 'pc-q35-5.2', 'pc-i440fx-4.2', 'pc-q35-3.1'],
  '10.0': [
    'pc-i440fx-10.0',
    'pc-q35-10.0',
    'pc-q35-7.2',
    'pc-q35-5.2',
    'pc-i440fx-4.2',
    'pc-q35-3.1',
  ],
};

export interface Configuration {
  readonly name: string;
  readonly description: string;
  /** Disk images the configuration attaches: file name -> size in bytes (all zeros, raw). */
  readonly images?: Readonly<Record<string, number>>;
  /** Capture options for one machine type; `imageDir` holds the images above. */
  options(machineType: string, imageDir: string): CaptureOptions;
}

const isQ35 = (machineType: string): boolean => /q35/.test(machineType);

/** An image path as a -drive file= value (commas doubled). */
const drive = (dir: string, name: string): string => `${dir}/${name}`.replace(/,/g, ',,');

/**
 * The device-rich VM: two NICs on their own user-mode backends, the other NICs without a peer,
 * virtio block/SCSI on small raw images, the virtio devices, USB 2 and 3 controllers with HID
 * devices, two more serial ports, AHCI with a CD-ROM on q35, HD audio, a watchdog and a VGA.
 */
function richArgs(machineType: string, dir: string, cpu: string): string[] {
  // prettier-ignore
  const args = [
    '-smp', '2',
    '-cpu', cpu,
    '-netdev', 'user,id=net0,restrict=on',
    '-device', 'e1000,netdev=net0,romfile=',
    '-netdev', 'user,id=net1,restrict=on',
    '-device', 'virtio-net-pci,netdev=net1,romfile=',
    '-device', 'e1000e,romfile=',
    '-device', 'rtl8139,romfile=',
    '-drive', `file=${drive(dir, 'blk.raw')},format=raw,if=none,id=blk0`,
    '-device', 'virtio-blk-pci,drive=blk0',
    '-device', 'virtio-scsi-pci,id=scsi0',
    '-drive', `file=${drive(dir, 'scsi.raw')},format=raw,if=none,id=hd0`,
    '-device', 'scsi-hd,drive=hd0,bus=scsi0.0',
    '-device', 'virtio-balloon-pci',
    '-device', 'virtio-rng-pci',
    '-device', 'virtio-serial-pci',
    '-device', 'usb-ehci,id=ehci',
    '-device', 'qemu-xhci,id=xhci',
    '-device', 'usb-tablet,bus=xhci.0',
    '-device', 'usb-kbd,bus=xhci.0',
    '-device', 'isa-serial',
    '-device', 'isa-serial',
    '-audiodev', 'none,id=snd0',
    '-device', 'intel-hda',
    '-device', 'hda-duplex,audiodev=snd0',
    '-device', 'i6300esb',
    '-device', 'VGA,romfile=',
  ];
  if (isQ35(machineType))
    // prettier-ignore
    args.push(
      '-device', 'ich9-ahci,id=ahci1',
      '-drive', 'if=none,id=cd0,media=cdrom',
      '-device', 'ide-cd,drive=cd0,bus=ahci1.0',
    );
  return args;
}

const RICH_IMAGES = { 'blk.raw': 1 << 20, 'scsi.raw': 1 << 20 };

export const CONFIGURATIONS: readonly Configuration[] = [
  {
    name: 'nodefaults-paused',
    description: '-nodefaults, never started (vCPU at the reset vector)',
    options: (machine) => ({ machine }),
  },
  {
    name: 'nodefaults-running',
    description: '-nodefaults, ran the zero BIOS for 300 ms, then stopped',
    options: (machine) => ({ machine, runMs: 300 }),
  },
  {
    name: 'defaults',
    description: "QEMU's default devices (VGA, NIC and its user-mode backend, serial, parallel...)",
    options: (machine) => ({ machine, defaultDevices: true }),
  },
  {
    name: 'rich-max',
    description: 'the device-rich VM, -smp 2 -cpu max',
    images: RICH_IMAGES,
    options: (machine, dir) => ({ machine, extraArgs: richArgs(machine, dir, 'max') }),
  },
  {
    name: 'rich-svm',
    description: 'the device-rich VM, -smp 2 -cpu qemu64,+svm',
    images: RICH_IMAGES,
    options: (machine, dir) => ({ machine, extraArgs: richArgs(machine, dir, 'qemu64,+svm') }),
  },
];

/** Writes the configuration's disk images (zero-filled raw files) into `dir`. */
export function writeImages(configuration: Pick<Configuration, 'images'>, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, size] of Object.entries(configuration.images ?? {}))
    fs.writeFileSync(path.join(dir, name), new Uint8Array(size));
}

export function configurationNamed(name: string): Configuration | undefined {
  return CONFIGURATIONS.find((c) => c.name === name);
}

/** Short machine-type names for file names: pc-i440fx-7.2 -> pc-7.2, pc-q35-3.1 -> q35-3.1. */
export function machineSlug(machineType: string): string {
  return machineType.replace(/^pc-i440fx-/, 'pc-').replace(/^pc-q35-/, 'q35-');
}

/** The file stem of one capture: `<machine slug>-<configuration>`, e.g. q35-10.0-rich-max. */
export function captureStem(machineType: string, configuration: string): string {
  return `${machineSlug(machineType)}-${configuration}`;
}

/** Every release x machine type x configuration, in a stable order. */
export function allCaptures(
  releases: readonly RealRelease[] = ['5.2', '7.2', '10.0'],
): { release: RealRelease; machineType: string; configuration: Configuration }[] {
  const out: { release: RealRelease; machineType: string; configuration: Configuration }[] = [];
  for (const release of releases)
    for (const machineType of RELEASE_MACHINE_TYPES[release])
      for (const configuration of CONFIGURATIONS) out.push({ release, machineType, configuration });
  return out;
}
