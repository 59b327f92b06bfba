/** The HPET (hw/timer/hpet.c, QOM hpet). */
import { f, k, vmsd, type State } from '../../src/dsl-kit';
import { propOn } from './machine-ctx';

/** HPET_MIN_TIMERS / HPET_MAX_TIMERS: the comparator count a stream may carry. */
const HPET_MIN_TIMERS = 3;
const HPET_MAX_TIMERS = 32;
/** HPET_CFG_ENABLE: the main counter runs. */
const HPET_CFG_ENABLE = 1n;

const comparator = vmsd({
  name: 'hpet_timer',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.u8('tn'),
    f.u64('config'),
    f.u64('cmp'),
    f.u64('fsb'),
    f.u64('period'),
    f.u8('wrap_flag'),
    f.timer('qemu_timer'),
  ],
});

const rtcIrqLevel = vmsd({
  name: 'hpet/rtc_irq_level',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.rtc_irq_level !== 0,
  fields: [f.u8('rtc_irq_level')],
});

const offset = vmsd({
  name: 'hpet/offset',
  version_id: 1,
  minimum_version_id: 1,
  // The counter's offset from guest time, kept exact while the HPET runs (property hpet-offset-saved, off for older machine types).
  needed: (s: Readonly<State>, ctx) =>
    ((s.config as bigint) & HPET_CFG_ENABLE) !== 0n && propOn(ctx, 'hpet.hpet-offset-saved', true),
  fields: [f.u64('hpet_offset')],
});

const counters = [f.u64('config'), f.u64('isr'), f.u64('hpet_counter')];
const validCount = (count: string) =>
  f.validate(
    'num_timers in range',
    (s) => (s[count] as number) >= HPET_MIN_TIMERS && (s[count] as number) <= HPET_MAX_TIMERS,
    `the HPET has ${HPET_MIN_TIMERS}..${HPET_MAX_TIMERS} comparators`,
  );

/**
 * After 7.2 (10.0 has it): the count is saved from num_timers_save (hpet_pre_save copies num_timers into it);
 * the timer array's length on the wire is still that count.
 */
export const hpetNumTimersSave = vmsd({
  name: 'hpet',
  version_id: 2,
  minimum_version_id: 1,
  pre_load: (s) => {
    s.num_timers_save = HPET_MIN_TIMERS;
  },
  fields: [
    ...counters,
    f.u8('num_timers_save', { version: 2 }),
    validCount('num_timers_save'),
    f.varray('timer', k.struct(comparator), { count: 'num_timers_save', max: HPET_MAX_TIMERS }),
  ],
  subsections: [rtcIrqLevel, offset],
});

export const hpet = vmsd({
  name: 'hpet',
  version_id: 2,
  minimum_version_id: 1,
  // Version-1 streams always had three comparators.
  pre_load: (s) => {
    s.num_timers = HPET_MIN_TIMERS;
  },
  fields: [
    f.u64('config'),
    f.u64('isr'),
    f.u64('hpet_counter'),
    f.u8('num_timers', { version: 2 }),
    f.validate(
      'num_timers in range',
      (s) =>
        (s.num_timers as number) >= HPET_MIN_TIMERS && (s.num_timers as number) <= HPET_MAX_TIMERS,
      `the HPET has ${HPET_MIN_TIMERS}..${HPET_MAX_TIMERS} comparators`,
    ),
    f.varray('timer', k.struct(comparator), { count: 'num_timers', max: HPET_MAX_TIMERS }),
  ],
  subsections: [rtcIrqLevel, offset],
});
