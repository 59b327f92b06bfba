/**
 * A catalog as the static checker's model (src/compat/static), in the form the release's own
 * `-dump-vmstate` has: one entry per device class keyed by QOM type, written out as that
 * release's dump would print it (vmstate/dump-vmstate.ts: C sizes where they differ from the
 * wire, `num` only where the release prints it) and read back by the dump reader, so a catalog
 * and a real dump are compared like with like. This is the seam `vmstate check RELEASE DUMP`
 * takes the release side from when the other side is a dump (the release on the dump's
 * machine type).
 */
import { fromDumpJson, type CheckSet } from '../src/compat/static/model';
import { RULES, type Finding } from '../src/compat/static/rules';
import { catalogOf, REAL_CATALOG_RELEASES, type Catalog } from './catalog';
import { dumpVmstateEntry } from './dump-vmstate';

/** The -dump-vmstate JSON this catalog's release would print for the catalog's device classes. */
export function catalogDumpJson(catalog: Catalog): Record<string, unknown> {
  const out: Record<string, unknown> = { vmschkmachine: { Name: catalog.machineType } };
  for (const e of catalog.entries.values())
    if (e.qomType !== undefined)
      out[e.qomType] = dumpVmstateEntry(e.qomType, e.desc, { num: catalog.dumpNum });
  return out;
}

export function catalogCheckSet(catalog: Catalog): CheckSet {
  const set = fromDumpJson(catalogDumpJson(catalog), `${catalog.release} (${catalog.machineType})`);
  return { ...set, origin: 'dsl' };
}

/** The release side of `vmstate check RELEASE DUMP`: the release's catalog on the dump's machine type. */
export function releaseCheckSetForDump(
  release: string,
  dumpMachineType: string | undefined,
): CheckSet {
  return catalogCheckSet(catalogOf(release, dumpMachineType));
}

/**
 * The dump's device classes the catalog does not model: `check` lists them as info findings
 * (counted, not breaks).
 */
export function unmodelledDeviceClasses(dump: CheckSet, catalogSet: CheckSet): string[] {
  return [...dump.entries.keys()].filter((k) => !catalogSet.entries.has(k)).sort();
}

/** Whether a release has a device catalog (the real ones) for `vmstate check RELEASE DUMP`. */
export function hasDeviceCatalog(release: string): boolean {
  return REAL_CATALOG_RELEASES.includes(release);
}

/**
 * The dump side of `vmstate check RELEASE DUMP`, cut to the device classes the catalog models,
 * and an info finding for each class it does not (counted in the summary, not a break).
 */
export function modelledPartOfDump(
  dump: CheckSet,
  catalogSet: CheckSet,
): { dump: CheckSet; notModelled: Finding[] } {
  const rest = unmodelledDeviceClasses(dump, catalogSet);
  const entries = new Map([...dump.entries].filter(([k]) => catalogSet.entries.has(k)));
  const notModelled = rest.map((k): Finding => ({
    rule: 'DEVICE_CLASS_NOT_MODELLED',
    severity: RULES.DEVICE_CLASS_NOT_MODELLED.severity,
    entry: k,
    path: dump.entries.get(k)!.name,
    message: `device class '${k}' of ${dump.label} has no description in the ${catalogSet.label} catalog: not compared`,
    direction: 'forward',
  }));
  return { dump: { ...dump, entries }, notModelled };
}
