/** The CMOS real-time clock (hw/rtc/mc146818rtc.c, QOM mc146818rtc). */
import { f, vmsd } from '../../src/dsl-kit';

const reinjectCount = vmsd({
  name: 'mc146818rtc/irq_reinject_on_ack_count',
  version_id: 1,
  minimum_version_id: 1,
  // lost_tick_policy=slew: interrupts re-injected when the guest acknowledges late.
  needed: (s) => s.irq_reinject_on_ack_count !== 0,
  fields: [f.u16('irq_reinject_on_ack_count')],
});

export const mc146818rtc = vmsd({
  name: 'mc146818rtc',
  version_id: 3,
  minimum_version_id: 1,
  fields: [
    f.buffer('cmos_data', 128),
    f.u8('cmos_index'),
    f.unused(7 * 4), // the old broken-down time (struct tm) fields
    f.timer('periodic_timer'),
    f.i64('next_periodic_time'),
    f.unused(3 * 8), // the old second timers
    f.u32('irq_coalesced', { version: 2 }),
    f.u32('period', { version: 2 }),
    f.u64('base_rtc', { version: 3 }),
    f.u64('last_update', { version: 3 }),
    f.i64('offset', { version: 3 }),
    f.timer('update_timer', { version: 3 }),
    f.u64('next_alarm_time', { version: 3 }),
  ],
  subsections: [reinjectCount],
});
