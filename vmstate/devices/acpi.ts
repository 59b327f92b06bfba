/**
 * ACPI building blocks shared by the PIIX4 and ICH9 power-management functions (hw/isa/apm.c,
 * hw/acpi/memory_hotplug.c, cpu.c, pcihp.c, tco.c).
 */
import { f, vmsd } from '../../src/dsl-kit';
import { dumpWithoutNum } from '../dump-vmstate';

/** vmstate_apm: the APM control/status ports (0xb2/0xb3) that trigger SMIs. */
export const apm = vmsd({
  name: 'APM State',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u8('apmc'), f.u8('apms')],
});

const memoryHotplugDevice = vmsd({
  name: 'memory hotplug device state',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.bool('is_enabled'), f.bool('is_inserting'), f.u32('ost_event'), f.u32('ost_status')],
});

/**
 * vmstate_memory_hotplug: the selector plus one entry per DIMM slot. The slot count (-m ...,
 * slots=N) is the receiver's configuration and is not on the wire; 0 without `slots=`.
 */
export function memoryHotplugState(slots = 0) {
  return vmsd({
    name: 'memory hotplug state',
    version_id: 1,
    minimum_version_id: 1,
    fields: [f.u32('selector'), dumpWithoutNum(f.structArray('devs', memoryHotplugDevice, slots))],
  });
}

const cpuHotplugDevice = vmsd({
  name: 'CPU hotplug device state',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.bool('is_inserting'), f.bool('is_removing'), f.u32('ost_event'), f.u32('ost_status')],
});

/**
 * vmstate_cpu_hotplug (the "modern" CPU hotplug interface): one entry per possible vCPU
 * (-smp maxcpus, 1 by default), again a count from the receiver's configuration.
 */
export function cpuHotplugState(possibleCpus = 1) {
  return vmsd({
    name: 'CPU hotplug state',
    version_id: 1,
    minimum_version_id: 1,
    fields: [
      f.u32('selector'),
      f.u8('command'),
      dumpWithoutNum(f.structArray('devs', cpuHotplugDevice, possibleCpus)),
    ],
  });
}

/** vmstate_acpi_pcihp_pci_status: pending hot-plug (up) and unplug (down) slot bits of one bus. */
export const pcihpPciStatus = vmsd({
  name: 'acpi_pcihp_pci_status',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u32('up'), f.u32('down')],
});

/** ACPI_PCIHP_MAX_HOTPLUG_BUS: buses the ACPI PCI hotplug interface can select. */
export const ACPI_PCIHP_MAX_HOTPLUG_BUS = 256;

/** vmstate_tco_io_sts: the ICH9 TCO watchdog's registers and timer. */
export const tcoIoRegs = vmsd({
  name: 'tco io device status',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.u16('tco.rld'),
    f.u8('tco.din'),
    f.u8('tco.dout'),
    f.u16('tco.sts1'),
    f.u16('tco.sts2'),
    f.u16('tco.cnt1'),
    f.u16('tco.cnt2'),
    f.u8('tco.msg1'),
    f.u8('tco.msg2'),
    f.u8('tco.wdcnt'),
    f.u16('tco.tmr'),
    f.u8('sw_irq_gen'),
    f.timer('tco_timer'),
    f.i64('expire_time'),
    f.u8('timeouts_no'),
  ],
});

/**
 * What sizes or shapes the PM functions' state beyond the release's defaults: the -m/-smp
 * options behind the hotplug tables, and the PCI hotplug pieces a release has (data from the
 * release's catalog: QEMU 5.2 has no acpi_index and no ich9_pm/pcihp).
 */
export interface PmConfig {
  /** -m ...,slots=N: DIMM slots in the memory hotplug table (default 0). */
  readonly memorySlots?: number;
  /** Possible vCPUs (-smp maxcpus): entries in the CPU hotplug table (default 1). */
  readonly possibleCpus?: number;
  /** acpi_pci_hotplug.acpi_index is in the state (QEMU 6.2+; default true). */
  readonly acpiIndex?: boolean;
  /** ICH9's ich9_pm/pcihp subsection exists (QEMU 6.1+; default true). */
  readonly ich9PciHotplug?: boolean;
}
