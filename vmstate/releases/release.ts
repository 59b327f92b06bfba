/**
 * Builds a release from its declaration (spec.ts): the `cpu` description (from the shared x86
 * pieces), the companion sections every x86 stream carries, its machine types, and the
 * nested-virtualization blockers/losses that follow from its features.
 */
import { cpuCommon } from '../devices/cpu_common';
import { timers } from '../devices/timer';
import { buildCpuDescription, cpuSubsectionFeature, type CpuFeatures } from '../x86/cpu';
import { machineTypesOf, type CompatTable } from './machines';
import { nestedBlockers, nestedLosses, nestedObserve } from './nested-support';
import { PC_COMPAT } from './pc-compat';
import type { ReleaseSpec } from './spec';
import type { CatalogSection, Release } from './types';

export type { ReleaseSpec } from './spec';

/**
 * Section ids as QEMU 7.2 (and 5.2) number them for a one-vCPU pc/q35 machine (timer 0, ram 2,
 * cpu_common 4, cpu 5): the order handlers register. A release that numbers them otherwise
 * says so in its file (10.0: 0, 3, 4).
 */
export const SECTION_IDS = { timer: 0, cpu_common: 4, cpu: 5 } as const;

/** A release from its declaration; `table` is every pc_compat array of the release index. */
export function defineRelease(spec: ReleaseSpec, table: CompatTable = PC_COMPAT): Release {
  const cpuFeatures: CpuFeatures = {
    version: spec.version,
    subsectionsOf: spec.follows,
    nested: spec.nested,
  };
  const name = spec.name ?? spec.version;
  const ids = spec.sectionIds ?? SECTION_IDS;
  const catalog: CatalogSection[] = [
    { name: 'timer', instance: 0, vmsd: timers, priority: 0, sectionId: ids.timer },
    { name: 'cpu_common', instance: 0, vmsd: cpuCommon, priority: 0, sectionId: ids.cpu_common },
    {
      name: 'cpu',
      instance: 0,
      vmsd: buildCpuDescription(cpuFeatures),
      priority: 0,
      sectionId: ids.cpu,
    },
  ];
  const machineTypes = machineTypesOf(spec, table);
  const q35 = machineTypes.find((m) => m.family === 'pc-q35') ?? machineTypes[0];
  return {
    name,
    kind: spec.kind ?? (spec.name ? 'design' : 'simulated'),
    summary: spec.summary,
    catalog,
    devices: spec.devices,
    machineTypes,
    defaultMachine: q35.name,
    blockers: nestedBlockers(spec.blockVmx ?? false),
    losses: nestedLosses(name, cpuFeatures),
    observe: nestedObserve(cpuFeatures),
    cpuFeatures,
    featureOf: cpuSubsectionFeature,
  };
}
