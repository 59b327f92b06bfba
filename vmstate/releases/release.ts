/**
 * Builds a simulated release from its feature list: the `cpu` description (from the shared
 * x86 pieces), the companion sections every x86 stream carries, its machine types, and the
 * nested-virtualization blockers/losses that follow from its features.
 */
import { cpuCommon } from '../devices/cpu_common';
import { timers } from '../devices/timer';
import { buildCpuDescription, cpuSubsectionFeature, type CpuFeatures } from '../x86/cpu';
import type { NestedDesign } from '../x86/nested';
import type { QemuVersion } from '../x86/versions';
import { machineTypesOf } from './machines';
import { nestedBlockers, nestedLosses, nestedObserve } from './nested-support';
import type { CatalogSection, CompatProp, Release } from './types';

export interface ReleaseSpec {
  readonly version: QemuVersion;
  readonly summary: string;
  /** How it carries nested state (undefined: not at all). */
  readonly nested?: NestedDesign;
  /** QEMU 3.1-4.0: refuse to migrate a KVM vCPU whose model exposes VMX. */
  readonly blockVmx?: boolean;
  /** Compat arrays of its own (our `next` adds one for 7.2 machine types). */
  readonly extraCompat?: Readonly<Record<string, readonly CompatProp[]>>;
  /** Name when it is a design rather than a release. */
  readonly name?: string;
}

/**
 * Section ids as QEMU 7.2 numbers them for a one-vCPU pc/q35 machine (timer 0, ram 2,
 * cpu_common 4, cpu 5): the order handlers register, which older releases share for these.
 */
export const SECTION_IDS = { timer: 0, cpu_common: 4, cpu: 5 } as const;

export function defineRelease(spec: ReleaseSpec): Release {
  const cpuFeatures: CpuFeatures = { version: spec.version, nested: spec.nested };
  const name = spec.name ?? spec.version;
  const catalog: CatalogSection[] = [
    { name: 'timer', instance: 0, vmsd: timers, priority: 0, sectionId: SECTION_IDS.timer },
    {
      name: 'cpu_common',
      instance: 0,
      vmsd: cpuCommon,
      priority: 0,
      sectionId: SECTION_IDS.cpu_common,
    },
    {
      name: 'cpu',
      instance: 0,
      vmsd: buildCpuDescription(cpuFeatures),
      priority: 0,
      sectionId: SECTION_IDS.cpu,
    },
  ];
  const machineTypes = machineTypesOf(spec.version, spec.extraCompat);
  return {
    name,
    summary: spec.summary,
    catalog,
    machineTypes,
    defaultMachine: machineTypes[0].name,
    blockers: nestedBlockers(spec.blockVmx ?? false),
    losses: nestedLosses(name, cpuFeatures),
    observe: nestedObserve(cpuFeatures),
    cpuFeatures,
    featureOf: cpuSubsectionFeature,
  };
}
