/**
 * The releases, by name, built from the release index (list/index.ts): real QEMU releases that
 * run here (5.2, 7.2, 10.0), simulated past ones (3.0-5.1), and `next`, our own release after
 * 7.2 that also migrates the VMX preemption-timer deadline.
 */
import { RELEASE_SPECS } from './list';
import { defineRelease } from './release';
import type { Release } from './types';

const list: Release[] = RELEASE_SPECS.map((s) => defineRelease(s));

export const releases: Readonly<Record<string, Release>> = Object.fromEntries(
  list.map((r) => [r.name, r]),
);
export const RELEASE_NAMES: readonly string[] = list.map((r) => r.name);
/** The releases of one kind, in index order. */
export const releasesOfKind = (kind: Release['kind']): readonly Release[] =>
  list.filter((r) => r.kind === kind);

export { designs, DESIGN_NAMES } from '../designs';
export type {
  Release,
  ReleaseKind,
  CatalogSection,
  MachineType,
  CompatProp,
  VmStates,
} from './types';
export { sectionKey } from './types';
