/**
 * The ICH9 LPC bridge 00:1f.0 on q35 (hw/isa/lpc_ich9.c, QOM ICH9-LPC) with its embedded
 * power-management block (hw/acpi/ich9.c, vmstate_ich9_pm) and the chipset configuration
 * registers.
 */
import { f, k, vmsd } from '../../src/dsl-kit';
import {
  ACPI_PCIHP_MAX_HOTPLUG_BUS,
  apm,
  cpuHotplugState,
  memoryHotplugState,
  pcihpPciStatus,
  type PmConfig,
  tcoIoRegs,
} from './acpi';
import { propOn } from './machine-ctx';
import { pciDevice } from './pci';

/** ICH9_PMIO_GPE0_LEN: GPE0 status and enable blocks, 16 bytes each. */
const ICH9_PMIO_GPE0_LEN = 16;
/** ICH9_CC_SIZE: the chipset configuration register block (RCBA). */
const ICH9_CC_SIZE = 16 * 1024;

export function ich9PmDescription(config: PmConfig = {}) {
  const memhp = vmsd({
    name: 'ich9_pm/memhp',
    version_id: 1,
    minimum_version_id: 1,
    needed: (_s, ctx) => propOn(ctx, 'ICH9-LPC.memory-hotplug-support', true),
    fields: [
      f.struct('acpi_memory_hotplug', memoryHotplugState(config.memorySlots), { version: 1 }),
    ],
  });
  const tco = vmsd({
    name: 'ich9_pm/tco',
    version_id: 1,
    minimum_version_id: 1,
    // QEMU 7.2 forces enable_tco on when it realizes the device, so a -global cannot turn it
    // off; only a qom-set afterwards can. The ctx key says what it is at migration time.
    needed: (_s, ctx) => propOn(ctx, 'ICH9-LPC.enable_tco', true),
    fields: [f.struct('tco_regs', tcoIoRegs, { version: 1 })],
  });
  const cpuhp = vmsd({
    name: 'ich9_pm/cpuhp',
    version_id: 1,
    minimum_version_id: 1,
    // Only once the guest switched to the modern CPU hotplug interface (runtime state).
    needed: (_s, ctx) => !propOn(ctx, 'ICH9-LPC.cpu-hotplug-legacy', true),
    fields: [f.struct('cpuhp_state', cpuHotplugState(config.possibleCpus), { version: 1 })],
  });
  const pcihp = vmsd({
    name: 'ich9_pm/pcihp',
    version_id: 1,
    minimum_version_id: 1,
    needed: (_s, ctx) => propOn(ctx, 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support', true),
    fields: [
      f.u32('acpi_pci_hotplug.hotplug_select'),
      f.structArray(
        'acpi_pci_hotplug.acpi_pcihp_pci_status',
        pcihpPciStatus,
        ACPI_PCIHP_MAX_HOTPLUG_BUS,
        { version: 1 },
      ),
      f.u32('acpi_pci_hotplug.acpi_index'),
    ],
  });
  return vmsd({
    name: 'ich9_pm',
    version_id: 1,
    minimum_version_id: 1,
    fields: [
      f.u16('acpi_regs.pm1.evt.sts'),
      f.u16('acpi_regs.pm1.evt.en'),
      f.u16('acpi_regs.pm1.cnt.cnt'),
      f.timer('acpi_regs.tmr.timer'),
      f.i64('acpi_regs.tmr.overflow_time'),
      f.array('acpi_regs.gpe.sts', k.u8, ICH9_PMIO_GPE0_LEN),
      f.array('acpi_regs.gpe.en', k.u8, ICH9_PMIO_GPE0_LEN),
      f.u32('smi_en'),
      f.u32('smi_sts'),
    ],
    subsections: config.ich9PciHotplug === false ? [memhp, tco, cpuhp] : [memhp, tco, cpuhp, pcihp],
  });
}

const resetControl = vmsd({
  name: 'ICH9LPC/rst_cnt',
  version_id: 1,
  minimum_version_id: 1,
  // The reset control register (port 0xcf9), sent only once the guest wrote it.
  needed: (s) => s.rst_cnt !== 0,
  fields: [f.u8('rst_cnt')],
});

const smiFeatures = vmsd({
  name: 'ICH9LPC/smi_feat',
  version_id: 1,
  minimum_version_id: 1,
  // The SMI feature negotiation with the firmware (broadcast SMI, CPU hotplug via SMI).
  needed: (s) =>
    (s.smi_guest_features_le as number[]).some((b) => b !== 0) || s.smi_features_ok !== 0,
  fields: [
    f.array('smi_guest_features_le', k.u8, 8),
    f.u8('smi_features_ok'),
    f.u64('smi_negotiated_features'),
  ],
});

export function ich9LpcDescription(config: PmConfig = {}) {
  return vmsd({
    name: 'ICH9LPC',
    version_id: 1,
    minimum_version_id: 1,
    fields: [
      f.struct('d', pciDevice),
      f.struct('apm', apm),
      f.struct('pm', ich9PmDescription(config)),
      f.array('chip_config', k.u8, ICH9_CC_SIZE),
      f.u32('sci_level'),
    ],
    subsections: [resetControl, smiFeatures],
  });
}

/** The default configuration: no DIMM slots, one possible vCPU. */
export const ich9Lpc = ich9LpcDescription();
