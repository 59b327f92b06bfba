/**
 * PCI core state (hw/pci/pci.c, pci_host.c): the PCIDevice struct every PCI function embeds,
 * the root bus's INTx counters and the host bridge's config-address register.
 */
import { f, k, vmsd } from '../../src/dsl-kit';
import { propOn } from './machine-ctx';
import { int32Equal, pciConfig, pciIrqState, receiverValue } from './kinds';

/** PCIDevice.version_id: the receiver accepts any stream value from 0 up to its own, 2. */
const pciVersionId = receiverValue(k.int32le, 2);

/**
 * vmstate_pci_device for a device that is (express) or is not a PCI Express function: the
 * config space is 256 or 4096 bytes, chosen by two _TEST fields both named "config" (QEMU's
 * migrate_is_pcie / migrate_is_not_pcie). The key `config` always holds the one that travels.
 */
function pciDeviceDescription(express: boolean) {
  return vmsd({
    name: 'PCIDevice',
    version_id: 2,
    minimum_version_id: 1,
    fields: [
      f.field('version_id', pciVersionId),
      f.field(express ? 'config_pci' : 'config', pciConfig(256), {
        as: 'config',
        exists: () => !express,
      }),
      f.field(express ? 'config' : 'config_pcie', pciConfig(4096), {
        as: 'config',
        exists: () => express,
      }),
      f.field('irq_state', pciIrqState, { version: 2 }),
    ],
  });
}

/** VMSTATE_PCI_DEVICE of a conventional PCI function (everything on pc, most of q35's root bus). */
export const pciDevice = pciDeviceDescription(false);
/** VMSTATE_PCI_DEVICE of a PCI Express function (e1000e, PCIe root ports...). */
export const pcieDevice = pciDeviceDescription(true);

/**
 * vmstate_pcibus: the per-PIRQ assertion counters of a root bus; `nirq` is the receiver's own
 * count (4 PIRQs on i440FX/PIIX3, 8 on Q35/ICH9) and must match.
 */
export function pciBus(nirq: number) {
  return vmsd({
    name: 'PCIBUS',
    version_id: 1,
    minimum_version_id: 1,
    fields: [
      f.field('nirq', int32Equal(nirq)),
      f.varray('irq_count', k.i32, { count: 'nirq', max: nirq }),
    ],
  });
}

/** vmstate_pcihost: sent unless x-config-reg-migration-enabled is off (hw_compat_5_0: machine types 5.0 and older). */
export const pciHost = vmsd({
  name: 'PCIHost',
  version_id: 1,
  minimum_version_id: 1,
  needed: (_s, ctx) => propOn(ctx, 'pci-host-bridge.x-config-reg-migration-enabled', true),
  fields: [f.u32('config_reg')],
});
