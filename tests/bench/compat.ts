/**
 * Compatibility benchmark: simulated migrations per second (one at a time, and amortized inside
 * the matrix, where each VM's streams and loads are shared between cells), against a baseline
 * measured in the same run: a plain save + load of the cpu section alone (7.2's description)
 * for the same VMs. Then the full default matrix (every release pair, newest q35 and i440fx
 * machine type both know) at 1,000 VMs per cell; the goal is 5 s using every core.
 */
import * as fc from 'fast-check';
import * as os from 'os';
import { load } from '../../src/engine/load';
import { save } from '../../src/engine/save';
import { runMatrix } from '../../src/compat/matrix';
import { migrate } from '../../src/compat/migrate';
import { arbitraryVm } from '../../vmstate/x86/vm-arbitrary';
import { findMachine, machineCtx } from '../../vmstate/releases/generate';
import { RELEASE_NAMES, releases } from '../../vmstate/releases';
import { goal, measure } from './measure';
import { x86Platform } from '../../vmstate/platform';

/**
 * The per-operation lines run this long first: a fresh process's first half second of cpu
 * saves and loads measured 3-4x the steady cost (the generated field functions and the 43
 * subsections' hooks tiering up), which is what a matrix of 200,000 migrations pays.
 */
const WARM_SECONDS = 1;

export async function benchCompat(): Promise<void> {
  const VMS = 200;
  const vms = fc.sample(arbitraryVm(), { numRuns: VMS, seed: 7 });
  const r72 = releases['7.2'];
  const cpu = r72.catalog.find((c) => c.name === 'cpu')!.vmsd;
  const machine = findMachine(r72, 'pc-q35-7.2')!;
  const ctxs = vms.map((vm) => machineCtx(vm.ctx, machine));
  let i = 0;
  const baseline = measure(
    'baseline: cpu save + load',
    () => {
      const k = i++ % VMS;
      const bytes = save(cpu, vms[k].state.cpu, { ctx: ctxs[k] });
      load(cpu, bytes, cpu.version_id, { ctx: ctxs[k] });
    },
    0,
    9,
    WARM_SECONDS,
  );
  let j = 0;
  const single = measure(
    'migrate 7.2 -> next (alone)',
    () => {
      const vm = vms[j++ % VMS];
      migrate(vm, { release: r72, machine: 'pc-q35-7.2' }, { release: releases.next });
    },
    0,
    9,
    WARM_SECONDS,
  );
  const all = RELEASE_NAMES.map((n) => releases[n]);
  const small = runMatrix({
    platform: x86Platform,
    from: all,
    to: all,
    runs: 100,
    seed: 7,
    shrink: false,
  });
  const perMigration = small.migrationSeconds / small.migrations;

  const row = (name: string, perOp: number) =>
    console.log(
      `  ${name.padEnd(52)} ${(1 / perOp).toFixed(0).padStart(8)} /s  ${(perOp * 1e6).toFixed(0).padStart(6)} us  ${(baseline.perOp / perOp).toFixed(2).padStart(6)}x baseline`,
    );
  console.log(
    `\ncompat: simulated migrations (whole VM: timer, cpu_common, cpu; encode, decode, compare; in-process CPU time, after ${WARM_SECONDS} s of warm-up)`,
  );
  row(baseline.name, baseline.perOp);
  goal(
    `cpu save + load ${(baseline.perOp * 1e6).toFixed(1)} us (goal <= 50 us)`,
    baseline.perOp <= 50e-6,
  );
  row(single.name, single.perOp);
  row(`migration inside the matrix (${small.cells.length} cells x 100 VMs)`, perMigration);

  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage(); // the whole process: the worker threads' time included
  const full = runMatrix({
    platform: x86Platform,
    from: all,
    to: all,
    runs: 1000,
    seed: 11,
    shrink: false,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpuBefore);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const broken = full.cells.filter((c) => c.violations > 0).length;
  console.log(
    `  full default matrix: ${full.cells.length} cells x 1000 VMs = ${full.migrations} migrations in ${seconds.toFixed(1)} s ` +
      `(${(full.migrations / seconds).toFixed(0)} /s, VM generation included), ${broken} broken cell(s)`,
  );
  console.log(
    `  full default matrix CPU time: ${cpuSeconds.toFixed(1)} s on all threads, ${((cpuSeconds / full.migrations) * 1e6).toFixed(0)} us a migration ` +
      `(${(cpuSeconds / seconds).toFixed(2)} cores busy on average)`,
  );
  goal(
    `full default matrix ${seconds.toFixed(1)} s on ${os.cpus().length} cores (goal <= 5 s)`,
    seconds <= 5,
  );
}
