/**
 * Each real release's catalog against that release's own -dump-vmstate, per machine type
 * (streams/qemu-<release>/<machine>.vmstate.json.gz): through the static checker's model, both
 * directions, every device class the catalog models has zero findings; the dump's other device
 * classes are what `check` reports as info (not modelled).
 */
import { checkCompat } from '../src/compat/static/check';
import { fromDumpJson, type CheckSet } from '../src/compat/static/model';
import { catalogOf } from '../vmstate/catalog';
import { catalogCheckSet, unmodelledDeviceClasses } from '../vmstate/catalog-check-set';
import { committedDumps, dumpJson } from './fixtures/release-streams';

const dumps = committedDumps();

/** The part of a set with the given keys. */
function only(set: CheckSet, keys: (k: string) => boolean): CheckSet {
  return { ...set, entries: new Map([...set.entries].filter(([k]) => keys(k))) };
}

test('every real release has dumps for its machine types', () => {
  for (const r of ['5.2', '7.2', '10.0'])
    expect(dumps.filter((d) => d.release === r).length).toBeGreaterThanOrEqual(4);
});

describe.each(dumps.map((d) => [`${d.release} ${d.slug}`, d] as const))('%s', (_n, d) => {
  const dump = fromDumpJson(dumpJson(d), `${d.release} ${d.slug}`);
  const catalog = catalogOf(d.release, dump.machine);
  const ours = catalogCheckSet(catalog);

  test('the catalog is taken on the dump machine type', () => {
    expect(catalog.machineType).toBe(dump.machine);
    expect(catalog.assumed).toBeUndefined();
  });

  test('every modelled device class: zero differences, both directions', () => {
    const modelled = only(dump, (k) => ours.entries.has(k));
    expect([...ours.entries.keys()].filter((k) => !dump.entries.has(k))).toEqual([]);
    const report = checkCompat(modelled, ours, 'full');
    expect(report.findings).toEqual([]);
  });

  test('the device classes not modelled are counted, and are real dump entries', () => {
    const rest = unmodelledDeviceClasses(dump, ours);
    expect(rest.length + ours.entries.size).toBe(dump.entries.size);
  });
});
