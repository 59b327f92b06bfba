/**
 * PIIX4's power-management function 00:01.3 on pc (hw/acpi/piix4.c, QOM PIIX4_PM): ACPI PM1
 * registers, PM timer, GPEs, SMBus, and the ACPI PCI/memory/CPU hotplug interfaces.
 */
import { f, vmsd, type Ctx } from '../../src/dsl-kit';
import {
  ACPI_PCIHP_MAX_HOTPLUG_BUS,
  apm,
  cpuHotplugState,
  memoryHotplugState,
  pcihpPciStatus,
  type PmConfig,
} from './acpi';
import { propOn } from './machine-ctx';
import { pciDevice } from './pci';
import { pmSmbus, smbusMigrates } from './smbus';

/** acpi-pci-hotplug-with-bridge-support (use_acpi_hotplug_bridge), on by default. */
const pciHotplugWithBridges = (ctx: Ctx) =>
  propOn(ctx, 'PIIX4_PM.acpi-pci-hotplug-with-bridge-support', true);

/** The pre-2.0 layout: one bus's hotplug status, named by its C expression in QEMU. */
const legacyPciStatus = vmsd({
  name: 'pci_status',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u32('up'), f.u32('down')],
});

/** vmstate_gpe: PIIX4 has one 16-bit GPE status and one enable register. */
const gpe = vmsd({
  name: 'gpe',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u16('sts'), f.u16('en')],
});

export function piix4PmDescription(config: PmConfig = {}) {
  const memhp = vmsd({
    name: 'piix4_pm/memhp',
    version_id: 1,
    minimum_version_id: 1,
    needed: (_s, ctx) => propOn(ctx, 'PIIX4_PM.memory-hotplug-support', true),
    fields: [
      f.struct('acpi_memory_hotplug', memoryHotplugState(config.memorySlots), { version: 1 }),
    ],
  });
  const cpuhp = vmsd({
    name: 'piix4_pm/cpuhp',
    version_id: 1,
    minimum_version_id: 1,
    // Only once the guest switched to the modern CPU hotplug interface (runtime state).
    needed: (_s, ctx) => !propOn(ctx, 'PIIX4_PM.cpu-hotplug-legacy', true),
    fields: [f.struct('cpuhp_state', cpuHotplugState(config.possibleCpus), { version: 1 })],
  });
  return vmsd({
    name: 'piix4_pm',
    version_id: 3,
    minimum_version_id: 3,
    fields: [
      f.struct('parent_obj', pciDevice),
      f.u16('ar.pm1.evt.sts'),
      f.u16('ar.pm1.evt.en'),
      f.u16('ar.pm1.cnt.cnt'),
      f.struct('apm', apm),
      f.struct('smb', pmSmbus, { version: 3, exists: (_s, _v, ctx) => smbusMigrates(ctx) }),
      f.timer('ar.tmr.timer'),
      f.i64('ar.tmr.overflow_time'),
      f.struct('ar.gpe', gpe, { version: 2 }),
      f.struct('acpi_pci_hotplug.acpi_pcihp_pci_status[0x0]', legacyPciStatus, {
        version: 2,
        exists: (_s, _v, ctx) => !pciHotplugWithBridges(ctx),
      }),
      f.u32('acpi_pci_hotplug.hotplug_select', {
        exists: (_s, _v, ctx) => pciHotplugWithBridges(ctx),
      }),
      f.structArray(
        'acpi_pci_hotplug.acpi_pcihp_pci_status',
        pcihpPciStatus,
        ACPI_PCIHP_MAX_HOTPLUG_BUS,
        {
          version: 1,
          exists: (_s, _v, ctx) => pciHotplugWithBridges(ctx),
        },
      ),
      ...(config.acpiIndex === false
        ? []
        : [
            f.u32('acpi_pci_hotplug.acpi_index', {
              exists: (_s, _v, ctx) =>
                pciHotplugWithBridges(ctx) &&
                !propOn(ctx, 'PIIX4_PM.x-not-migrate-acpi-index', false),
            }),
          ]),
    ],
    subsections: [memhp, cpuhp],
  });
}

/** The default configuration: no DIMM slots, one possible vCPU. */
export const piix4Pm = piix4PmDescription();
