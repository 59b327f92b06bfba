/**
 * Device properties a versioned machine type changes: QEMU's hw_compat_X_Y arrays
 * (hw/core/machine.c), each {driver, property, value} as QEMU declares it. Machine type
 * pc-*-X.Y of a later release applies every array from hw_compat_X_Y up to the one just before
 * that release (pc_compat_X_Y, the x86 machines' own array, is vmstate/releases' and has the same
 * shape, so the two compose).
 *
 * Entries up to 6.1 are QEMU's arrays as written; later arrays list the entries of devices the
 * catalog models or the configurations use (checked against real streams: e.g. e1000e's
 * core.timadj is absent from 10.0's pc-q35-7.2 streams and present on pc-q35-10.0).
 */
export interface GlobalProperty {
  readonly driver: string;
  readonly property: string;
  readonly value: string;
}

const p = (driver: string, property: string, value: string): GlobalProperty => ({
  driver,
  property,
  value,
});

/** hw_compat_X_Y, keyed "X.Y": the properties machine types X.Y and older get. */
export const HW_COMPAT: Readonly<Record<string, readonly GlobalProperty[]>> = {
  '2.3': [
    p('migration', 'send-configuration', 'off'),
    p('migration', 'send-section-footer', 'off'),
    p('migration', 'store-global-state', 'off'),
  ],
  '2.4': [
    p('e1000', 'extra_mac_registers', 'off'),
    p('virtio-pci', 'migrate-extra', 'off'),
    p('fw_cfg_mem', 'dma_enabled', 'off'),
    p('fw_cfg_io', 'dma_enabled', 'off'),
  ],
  '2.11': [
    p('hpet', 'hpet-offset-saved', 'false'),
    p('virtio-blk-pci', 'vectors', '2'),
    p('e1000', 'migrate_tso_props', 'off'),
  ],
  '2.12': [
    p('migration', 'decompress-error-check', 'off'),
    p('hda-audio', 'use-timer', 'false'),
    p('cirrus-vga', 'global-vmstate', 'true'),
    p('VGA', 'global-vmstate', 'true'),
  ],
  '3.0': [],
  '3.1': [
    p('pcie-root-port', 'x-speed', '2_5'),
    p('pcie-root-port', 'x-width', '1'),
    p('usb-kbd', 'serial', '42'),
    p('usb-mouse', 'serial', '42'),
    p('usb-tablet', 'serial', '42'),
    p('virtio-blk-device', 'discard', 'false'),
    p('virtio-blk-device', 'write-zeroes', 'false'),
    p('virtio-balloon-device', 'qemu-4-0-config-size', 'false'),
    p('pcie-root-port-base', 'disable-acs', 'true'),
  ],
  '4.0': [
    p('VGA', 'edid', 'false'),
    p('secondary-vga', 'edid', 'false'),
    p('virtio-vga', 'edid', 'false'),
    p('virtio-gpu-device', 'edid', 'false'),
    p('virtio-device', 'use-started', 'false'),
    p('virtio-balloon-device', 'qemu-4-0-config-size', 'true'),
  ],
  '4.1': [p('virtio-pci', 'x-pcie-flr-init', 'off')],
  '4.2': [
    p('virtio-blk-device', 'queue-size', '128'),
    p('virtio-scsi-device', 'virtqueue_size', '128'),
    p('virtio-blk-device', 'x-enable-wce-if-config-wce', 'off'),
    p('virtio-blk-device', 'seg-max-adjust', 'off'),
    p('virtio-scsi-device', 'seg_max_adjust', 'off'),
    p('fw_cfg', 'acpi-mr-restore', 'false'),
    p('virtio-device', 'use-disabled-flag', 'false'),
  ],
  '5.0': [
    p('pci-host-bridge', 'x-config-reg-migration-enabled', 'off'),
    p('virtio-balloon-device', 'page-poison', 'false'),
    p('virtio-device', 'x-disable-legacy-check', 'true'),
  ],
  '5.1': [
    p('virtio-blk-device', 'num-queues', '1'),
    p('virtio-scsi-device', 'num_queues', '1'),
    p('virtio-pci', 'x-ats-page-aligned', 'off'),
  ],
  '5.2': [
    p('ICH9-LPC', 'smm-compat', 'on'),
    p('PIIX4_PM', 'smm-compat', 'on'),
    p('virtio-blk-device', 'report-discard-granularity', 'off'),
    p('virtio-net-pci', 'vectors', '3'),
  ],
  '6.0': [
    p('i8042', 'extended-state', 'false'),
    p('e1000', 'init-vet', 'off'),
    p('e1000e', 'init-vet', 'off'),
  ],
  '6.1': [],
  '6.2': [p('PIIX4_PM', 'x-not-migrate-acpi-index', 'on')],
  '7.0': [],
  '7.1': [p('virtio-device', 'queue_reset', 'false'), p('virtio-rng-pci', 'vectors', '0')],
  '7.2': [p('e1000e', 'migrate-timadj', 'off')],
  '8.0': [],
  '8.1': [
    p('virtio-net', 'host_uso', 'off'),
    p('virtio-net', 'guest_uso4', 'off'),
    p('virtio-net', 'guest_uso6', 'off'),
  ],
  '8.2': [],
  '9.0': [
    p('scsi-hd', 'migrate-emulated-scsi-request', 'false'),
    p('scsi-cd', 'migrate-emulated-scsi-request', 'false'),
    p('virtio-pci', 'x-pcie-pm-no-soft-reset', 'off'),
  ],
  '9.1': [],
  '9.2': [
    p('virtio-balloon-pci', 'vectors', '0'),
    p('virtio-device', 'x-force-features-auto', 'on'),
  ],
};

/**
 * Fields of the x86 machine classes a device description reads (pc_piix.c / pc_q35.c
 * *_machine_options), keyed like HW_COMPAT by the newest machine version that sets them, with
 * driver "machine" (the ctx key machine.<field>).
 */
export const MACHINE_CLASS_COMPAT: Readonly<Record<string, readonly GlobalProperty[]>> = {
  // pc_i440fx_machine_3_1_options / pc_q35_machine_3_1_options: the PM SMBus state is not migrated.
  '3.1': [p('machine', 'smbus_no_migration_support', 'on')],
};

/** "10.0" -> [10, 0]. */
function versionOf(v: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new Error(`not a QEMU version: ${v}`);
  return [Number(m[1]), Number(m[2])];
}

function compare(a: string, b: string): number {
  const [a1, a2] = versionOf(a);
  const [b1, b2] = versionOf(b);
  return a1 - b1 || a2 - b2;
}

/** The version of a versioned machine type: pc-q35-5.2 -> 5.2; undefined for an alias. */
export function machineVersion(machineType: string): string | undefined {
  return /-(\d+\.\d+)$/.exec(machineType)?.[1];
}

/**
 * The hw_compat properties machine version `machine` has in `release`, in QEMU's order (oldest
 * array last, so that when two arrays set one property the older machine's value wins, as
 * QEMU applies them).
 */
export function hwCompatFor(
  machine: string,
  release: string,
  table: Readonly<Record<string, readonly GlobalProperty[]>> = HW_COMPAT,
): GlobalProperty[] {
  return Object.keys(table)
    .filter((v) => compare(v, machine) >= 0 && compare(v, release) < 0)
    .sort((a, b) => compare(b, a))
    .flatMap((v) => table[v]!);
}

/** The machine-class fields machine version `machine` has in `release`. */
export function machineClassFor(machine: string, release: string): GlobalProperty[] {
  return hwCompatFor(machine, release, MACHINE_CLASS_COMPAT);
}

/** Properties as the catalog's ctx reads them: `driver.property` -> value (later entries win). */
export function propsOf(props: readonly GlobalProperty[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const g of props) out[`${g.driver}.${g.property}`] = g.value;
  return out;
}
