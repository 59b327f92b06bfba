/**
 * The Intel 6300ESB watchdog (hw/watchdog/wdt_i6300esb.c, QOM i6300esb), a PCI function. Its
 * version 10000 marks the rewrite to VMState; the same in 5.2, 7.2 and 10.0.
 */
import { f, vmsd } from '../../src/dsl-kit';
import { pciDevice } from './pci';

export const i6300esb = vmsd({
  name: 'i6300esb_wdt',
  version_id: 10000,
  minimum_version_id: 1,
  fields: [
    f.struct('dev', pciDevice),
    f.i32('reboot_enabled'),
    f.i32('clock_scale'),
    f.i32('int_type'),
    f.i32('free_run'),
    f.i32('locked'),
    f.i32('enabled'),
    f.timer('timer'),
    f.u32('timer1_preload'),
    f.u32('timer2_preload'),
    f.i32('stage'),
    f.i32('unlock_state'),
    f.i32('previous_reboot_flag'),
  ],
});
