/**
 * The static checker's view of a simulated release (or design): one entry per catalog section,
 * from its DSL description, and the `neededOnOldMachine` hook that decides whether a subsection
 * the destination lacks would ever be sent on the old side's machine type. The hook samples VMs
 * (the platform's scenarios, then its random VMs) through the source release as a migration
 * would (blockers, losses and pre_save included) on the destination's newest machine types the
 * source also knows, and records the first VM for which each subsection went on the wire.
 */
import * as fc from 'fast-check';
import { machinesFor } from '../matrix';
import { MigrationCache, type GeneratedVm } from '../migrate';
import type { Platform } from '../platform';
import type { Release } from '../release';
import { checkCompat, type CheckMode, type CheckReport } from './check';
import { fromVmsd, type CheckSet } from './model';
import type { CheckHooks } from './rules';

export function releaseCheckSet(r: Release): CheckSet {
  const entries = new Map(
    r.catalog.map((c) => [c.instance === 0 ? c.name : `${c.name}#${c.instance}`, fromVmsd(c.vmsd)]),
  );
  return { label: r.name, entries, origin: 'dsl' };
}

export interface SamplingOptions {
  /** Where the sampled VMs come from. */
  readonly platform: Platform;
  /** Random VMs after the scenarios (default 300). */
  readonly samples?: number;
  readonly seed?: number;
}

/**
 * The hook for subsections `source` sends and the destination lacks: the destination is a
 * release (its newest machine type of each family the source knows) or a machine type name
 * (a -dump-vmstate file's). Undefined when there is no machine type to sample on.
 */
export function neededOnOldMachineHook(
  source: Release,
  destination: Release | string | undefined,
  opts: SamplingOptions,
): CheckHooks {
  const machines =
    destination === undefined
      ? []
      : typeof destination === 'string'
        ? source.machineTypes.some((m) => m.name === destination)
          ? [destination]
          : []
        : machinesFor(destination, source);
  const featureOf = (sub: string) => source.featureOf(sub);
  if (machines.length === 0) return { featureOf };
  let examples: Map<string, string> | undefined;
  let sampled = 0;
  const sample = (): Map<string, string> => {
    const found = new Map<string, string>();
    const seed = opts.seed ?? 42;
    const vms: { vm: GeneratedVm; what: string }[] = opts.platform
      .scenarioVms()
      .map((vm) => ({ vm, what: `scenario '${vm.base}'` }));
    fc.sample(opts.platform.arbitraryVm([source]), {
      numRuns: opts.samples ?? 300,
      seed,
    }).forEach((vm, i) =>
      vms.push({ vm, what: `random VM #${i} (seed ${seed}, from scenario '${vm.base}')` }),
    );
    sampled = vms.length;
    for (const { vm, what } of vms) {
      const cache = new MigrationCache(vm);
      for (const machine of machines) {
        const side = cache.side(source, machine);
        const src = side && cache.source(source, side);
        if (!src?.done) continue;
        for (const sent of src.sent.values())
          for (const s of sent.subsections)
            if (!found.has(s.name)) found.set(s.name, `${what} on ${machine}`);
      }
    }
    return found;
  };
  return {
    featureOf,
    neededOnOldMachine: (_entry, _parent, sub) => {
      examples ??= sample();
      return examples.get(sub.name) ?? false;
    },
    sampling: () =>
      `${sampled} VMs (${opts.platform.scenarioVms().length} scenarios, the rest random) through ${source.name} on ${machines.join(', ')}`,
  };
}

/**
 * The static check of two releases with the sampling hook on both sides: what `vmstate check
 * OLD NEW` reports for two releases or designs.
 */
export function checkReleases(
  oldRelease: Release,
  newRelease: Release,
  mode: CheckMode,
  opts: SamplingOptions,
): CheckReport {
  return checkCompat(releaseCheckSet(oldRelease), releaseCheckSet(newRelease), mode, {
    forward: neededOnOldMachineHook(oldRelease, newRelease, opts),
    backward: neededOnOldMachineHook(newRelease, oldRelease, opts),
  });
}
