/**
 * What the device descriptions' needed() and _TEST predicates consult besides the state itself.
 * QEMU reads these from device properties, machine-class fields and globals (tcg_enabled(),
 * icount_enabled(), the migration object); here they travel in the engine's ctx, so each
 * description stays a pure function of (state, ctx). Every key is optional: an empty ctx means
 * a default pc-i440fx-7.2 / pc-q35-7.2 machine under TCG, which is what the real streams are.
 */
import type { Ctx } from '../../src/dsl';

export interface MachineCtx extends Ctx {
  /**
   * Device and machine properties as they are at migration time, keyed `<QOM type>.<property>`
   * exactly as a `-global` names them; values are booleans or QEMU's "on"/"off"/"true"/"false".
   * Read by the catalog (default in brackets): e1000.mitigation, e1000.extra_mac_registers,
   * e1000.migrate_tso_props [on]; isa-pcspk.migrate [on]; i8042.extended-state [on];
   * hpet.hpet-offset-saved [on]; fw_cfg_io.dma_enabled, fw_cfg.acpi-mr-restore [on];
   * pci-host-bridge.x-config-reg-migration-enabled [on]; PIIX4_PM.memory-hotplug-support,
   * PIIX4_PM.acpi-pci-hotplug-with-bridge-support [on], PIIX4_PM.x-not-migrate-acpi-index [off];
   * ICH9-LPC.memory-hotplug-support, ICH9-LPC.enable_tco,
   * ICH9-LPC.acpi-pci-hotplug-with-bridge-support [on]; PIIX4_PM.cpu-hotplug-legacy and
   * ICH9-LPC.cpu-hotplug-legacy [on; the guest's firmware switches them off at run time];
   * migration.store-global-state [on]; virtio-pci.migrate-extra, virtio-device.queue_reset [on],
   * virtio-device.packed [off]; hda-audio.use-timer [on]; qdev.machine-modified [off:
   * no device was hot-added or removed, QEMU's qdev_machine_modified()]; and the machine-class
   * field machine.smbus_no_migration_support [off].
   */
  readonly props?: Readonly<Record<string, unknown>>;
  /** 'tcg' when absent, like the real sample streams. */
  readonly accel?: 'kvm' | 'tcg';
  /** -icount: 0 off (default), 1 on, 2 on with a shift that adapts (sleep=off, shift=auto). */
  readonly icount?: 0 | 1 | 2;
  /** -icount sleep=on|off (default on): with sleep on QEMU creates the icount warp timer. */
  readonly icountSleep?: boolean;
}

/** A boolean property: the ctx's value if given (QEMU's bool parsing), else the 7.2 default. */
export function propOn(ctx: Ctx, key: string, dflt: boolean): boolean {
  const v = (ctx as MachineCtx).props?.[key];
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v === 'on' || v === 'true' || v === 'yes';
  return dflt;
}

export const isTcg = (ctx: Ctx): boolean => (ctx as MachineCtx).accel !== 'kvm';
export const icountMode = (ctx: Ctx): number => (ctx as MachineCtx).icount ?? 0;
export const icountSleep = (ctx: Ctx): boolean => (ctx as MachineCtx).icountSleep ?? true;
