/** The 8254 programmable interval timer (hw/timer/i8254_common.c, QOM isa-pit). */
import { f, vmsd } from '../../src/dsl-kit';

const channel = vmsd({
  name: 'pit channel',
  version_id: 2,
  minimum_version_id: 2,
  fields: [
    f.i32('count'),
    f.u16('latched_count'),
    f.u8('count_latched'),
    f.u8('status_latched'),
    f.u8('status'),
    f.u8('read_state'),
    f.u8('write_state'),
    f.u8('write_latch'),
    f.u8('rw_mode'),
    f.u8('mode'),
    f.u8('bcd'),
    f.u8('gate'),
    f.i64('count_load_time'),
    f.i64('next_transition_time'),
  ],
});

export const i8254 = vmsd({
  name: 'i8254',
  version_id: 3,
  minimum_version_id: 2,
  fields: [
    f.u32('channels[0].irq_disabled', { version: 3 }),
    f.structArray('channels', channel, 3, { version: 2 }),
    f.i64('channels[0].next_transition_time'), // formerly the IRQ timer's expiry
  ],
});
