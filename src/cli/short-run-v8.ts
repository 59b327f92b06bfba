/**
 * V8 tuning for a CLI process that mostly lives 0.1-0.5 s, set before a command runs (from the
 * start-up snapshot's main and from launch.js). With V8's default tier-up budget, `vmstate analyze`
 * of a 0.5 MB device-heavy stream sends dozens of functions to TurboFan whose optimized code comes
 * too late to pay back: the compiler's threads, zone memory and code pages were about a third of
 * the process's CPU time and 5-8 MiB of its peak RSS. A budget eight times V8's tiers up only
 * functions that keep running; a long run (a 1 GiB stream, the compat matrix) reaches TurboFan a
 * few milliseconds later. Four times still sent the 0.2 MB bundled streams' page and register
 * loops (countPages, writeUnsignedRun) to TurboFan: a quarter of the instructions of such a run
 * (callgrind); eight times avoids that and costs the 0.9 MB device-heavy streams about 5% more
 * (sixteen times: 8-10%). A budget the user set (NODE_OPTIONS, node's own flags) is kept.
 */
import * as v8 from 'v8';

/** V8 11's default --interrupt-budget (node 20), times eight. */
export const SHORT_RUN_INTERRUPT_BUDGET = 8 * 66 * 1024;

/** The V8 flags to set for a short run, leaving out any the user gave node (its flags, NODE_OPTIONS). */
export function shortRunV8Flags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = [...execArgv, nodeOptions].some((a) => /--interrupt[-_]budget/.test(a));
  return given ? [] : [`--interrupt-budget=${SHORT_RUN_INTERRUPT_BUDGET}`];
}

export function tuneV8ForShortRun(): void {
  for (const flag of shortRunV8Flags()) v8.setFlagsFromString(flag);
}
