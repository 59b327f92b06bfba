/**
 * Each real release's catalog against that release's own -dump-vmstate, per machine type
 * (streams/qemu-<release>/<machine>.vmstate.json.gz): through the static checker's model, both
 * directions, every device class the catalog models has zero findings; the dump's other device
 * classes are what `check` reports as info (not modelled).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkCompat } from '../src/compat/static/check';
import { fromDumpJson, type CheckSet } from '../src/compat/static/model';
import { catalogOf } from '../vmstate/catalog';
import { catalogCheckSet, unmodelledDeviceClasses } from '../vmstate/catalog-check-set';
import { committedDumps, dumpJson } from './fixtures/release-streams';
import { runCli } from './fixtures/run-cli';

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

  test(`vmstate check ${d.release} DUMP: zero differences, the classes not modelled as info findings counted in the summary`, async () => {
    const r = await runCli(['check', d.release, d.gz, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      breaking: number;
      findings: { rule: string; severity: string; entry: string }[];
    };
    expect(report.breaking).toBe(0);
    expect(report.findings.filter((f) => f.rule !== 'DEVICE_CLASS_NOT_MODELLED')).toEqual([]);
    const rest = unmodelledDeviceClasses(dump, ours);
    expect(report.findings.map((f) => f.entry).sort()).toEqual(rest);
    expect(new Set(report.findings.map((f) => f.severity))).toEqual(new Set(['info']));
    const text = await runCli(['check', d.release, d.gz]);
    expect(text.stdout.split('\n')[0]).toBe(
      `vmstate check ${d.release} (${dump.machine}) -> ${d.gz} (full): 0 breaking, ${rest.length} other finding(s), of which ${rest.length} device class(es) not modelled`,
    );
  });
});

test('vmstate check RELEASE DUMP where the release lacks the dump machine type: usage error (exit 2)', async () => {
  const newer = dumps.find((d) => d.release === '10.0' && d.slug === 'q35-7.2')!;
  const r = await runCli(['check', '5.2', newer.gz]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/release 5\.2 has no machine type 'pc-q35-7\.2'/);
});

test('a modelled device description changed in the dump is a difference again', async () => {
  const d = dumps.find((x) => x.release === '7.2' && x.slug === 'q35-7.2')!;
  const json = dumpJson(d) as Record<string, { Description: { version_id: number } }>;
  json.hpet.Description.version_id += 1;
  const file = path.join(os.tmpdir(), `check-release-dump-${process.pid}.json`);
  fs.writeFileSync(file, JSON.stringify(json));
  try {
    const r = await runCli(['check', '7.2', file, '--json']);
    expect(r.code).toBe(1);
    const rules = (JSON.parse(r.stdout) as { findings: { rule: string; entry: string }[] }).findings
      .filter((f) => f.rule !== 'DEVICE_CLASS_NOT_MODELLED')
      .map((f) => `${f.entry}:${f.rule}`);
    expect(rules).toEqual(['hpet:VERSION_TOO_NEW']);
  } finally {
    fs.rmSync(file, { force: true });
  }
});
