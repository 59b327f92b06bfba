/**
 * The local APIC (hw/intc/apic_common.c, vmstate_apic_common): one "apic" section per vCPU,
 * instance id = the APIC's initial id. Registered by the APIC itself, so -dump-vmstate has no
 * entry for it.
 */
import { f, k, vmsd } from '../../src/dsl-kit';

const sipi = vmsd({
  name: 'apic_sipi',
  version_id: 1,
  minimum_version_id: 1,
  // An AP waiting for its startup IPI.
  needed: (s) => s.wait_for_sipi !== 0,
  fields: [f.i32('sipi_vector'), f.i32('wait_for_sipi')],
});

export const apic = vmsd({
  name: 'apic',
  version_id: 3,
  minimum_version_id: 3,
  fields: [
    f.u32('apicbase'),
    f.u8('id'),
    f.u8('arb_id'),
    f.u8('tpr'),
    f.u32('spurious_vec'),
    f.u8('log_dest'),
    f.u8('dest_mode'),
    f.array('isr', k.u32, 8),
    f.array('tmr', k.u32, 8),
    f.array('irr', k.u32, 8),
    f.array('lvt', k.u32, 6),
    f.u32('esr'),
    f.array('icr', k.u32, 2),
    f.u32('divide_conf'),
    f.i32('count_shift'),
    f.u32('initial_count'),
    f.i64('initial_count_load_time'),
    f.i64('next_time'),
    // The APIC timer's expiry, written as a plain int64 rather than a timer field.
    f.i64('timer_expiry'),
  ],
  subsections: [sipi],
});
