/**
 * The "timer" section (softmmu/cpu-timers.c, vmstate_timers): the offsets that keep guest time
 * (cpu ticks and the virtual clock) continuous across migration, plus icount's state when the
 * VM runs with -icount.
 */
import { f, vmsd } from '../../src/dsl-kit';
import { icountMode, icountSleep } from './machine-ctx';

const warpTimer = vmsd({
  name: 'timer/icount/warp_timer',
  version_id: 1,
  minimum_version_id: 1,
  // QEMU: the warp timer exists, which it is under -icount with sleep=on.
  needed: (_s, ctx) => icountSleep(ctx),
  fields: [f.i64('vm_clock_warp_start'), f.timer('icount_warp_timer')],
});

const adjustTimers = vmsd({
  name: 'timer/icount/timers',
  version_id: 1,
  minimum_version_id: 1,
  // QEMU: the rt/vm adjust timers exist, which is icount mode 2 (shift=auto).
  needed: (_s, ctx) => icountMode(ctx) === 2,
  fields: [f.timer('icount_rt_timer'), f.timer('icount_vm_timer')],
});

const icountShift = vmsd({
  name: 'timer/icount/shift',
  version_id: 2,
  minimum_version_id: 2,
  needed: (_s, ctx) => icountMode(ctx) === 2,
  fields: [f.i16('icount_time_shift'), f.i64('last_delta')],
});

const icount = vmsd({
  name: 'timer/icount',
  version_id: 1,
  minimum_version_id: 1,
  needed: (_s, ctx) => icountMode(ctx) !== 0,
  fields: [f.i64('qemu_icount_bias'), f.i64('qemu_icount')],
  subsections: [warpTimer, adjustTimers, icountShift],
});

export const timers = vmsd({
  name: 'timer',
  version_id: 2,
  minimum_version_id: 1,
  fields: [f.i64('cpu_ticks_offset'), f.unused(8), f.i64('cpu_clock_offset', { version: 2 })],
  subsections: [icount],
});
