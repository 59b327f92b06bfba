/**
 * A bounded, seeded slice of the fuzz campaign (tests/fuzz, `npm run fuzz` for the whole one),
 * with a different seed each run (printed; VMSTATE_FUZZ_SEED repeats one), and every saved
 * reproducer as a regression test.
 */
import * as fs from 'fs';
import * as path from 'path';
import { formatReport, REPRO_DIR, runCampaign } from './fuzz/campaign';
import { StreamCuts } from './fuzz/cuts';
import {
  loadSeed,
  seedName,
  seedStreamFiles,
  type Descriptor,
  type SeedStream,
} from './fuzz/inputs';
import { StreamMutations } from './fuzz/mutations';
import { runOne } from './fuzz/run-one';
import { builtCli, CLI_RSS_LIMIT, peakRssAlone } from './fuzz/cli-run';
import { collectGarbage } from './fuzz/steps';

const SLICE_SECONDS = Number(process.env.VMSTATE_FUZZ_SECONDS ?? 12);
const seed = Number(process.env.VMSTATE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

test(
  'a seeded slice of the campaign: no crash, hang, memory blow-up or exit-0 truncation',
  async () => {
    console.log(
      `fuzz slice: seed ${seed} (again: VMSTATE_FUZZ_SEED=${seed} or npm run fuzz -- --seed ${seed})`,
    );
    const report = await runCampaign({
      seconds: SLICE_SECONDS,
      seed,
      worker: false,
      sampleStreams: 4,
      // Mostly truncations (about 0.2 ms each), a mutation (a few ms from a checkpoint: views, encoder)
      // every 200 of them and a hostile shape every 5th mutation.
      plan: { cutsPerMutation: 200, hostileEvery: 5 },
      // Every 50th truncation is decoded from byte 0 too: the checkpoints are checked in each run.
      crossCheckEvery: 50,
      // The jest worker's RSS holds every suite it ran and collects late: growth there is the
      // runner's as much as ours, so the slice catches gross blow-ups only (npm run fuzz, in a
      // worker of its own, holds the 256 MiB line).
      rssLimitMiB: 1024,
    });
    console.log(formatReport(report));
    expect(report.inputs).toBeGreaterThan(0);
    expect(report.truncation.covered).toBeGreaterThan(0);
    expect(report.truncation.crossChecked).toBeGreaterThan(0);
    expect(report.failures.map((f) => `${f.kind}: ${f.input}: ${f.message}`)).toEqual([]);
  },
  (SLICE_SECONDS + 40) * 1000,
);

test('a cut decoded from a checkpoint ends exactly as decoded from byte 0 (error, offset, message)', async () => {
  // One stream of each kind (defaults, paused and running -nodefaults, compressed pages, shared
  // RAM, a machine type without footers, the rich VMs with -cpu max and svm), across the three
  // releases; offsets drawn from the seed in the RAM area, inside each device section (the big
  // ones too), in the description and around EOF, and right at and after checkpoints.
  const names = [
    'qemu-5.2/pc-5.2-nodefaults-paused',
    'qemu-5.2/q35-5.2-nodefaults-running',
    'qemu-5.2/pc-5.2-rich-max',
    'qemu-7.2/q35-7.2-defaults',
    'qemu-7.2/pc-compress-paused',
    'qemu-7.2/pc-ignore-shared-uuid-paused',
    'qemu-7.2/pc-i440fx-2.3-paused',
    'qemu-7.2/q35-7.2-rich-svm',
    'qemu-10.0/q35-10.0-rich-max',
  ];
  const files = seedStreamFiles().filter((f) => names.includes(seedName(f)));
  expect(files.map(seedName).sort()).toEqual([...names].sort());
  let state = seed >>> 0 || 1;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const within = (from: number, to: number) => from + Math.floor(next() * Math.max(1, to - from));
  for (const f of files) {
    const s = await loadSeed(f);
    const cuts = await StreamCuts.of(s);
    expect(cuts.count).toBeGreaterThan(10);
    // Around checkpoints too: right at one, a record's one byte of look-ahead is cut.
    const marks = cuts.positions.filter(() => next() < 0.02).flatMap((p) => [p, p + 1]);
    const ends = [...s.sections.slice(1), s.eof];
    // 16 records drawn at random (RAM parts are many), a cut inside each.
    const inSections = Array.from({ length: 16 }, () => {
      const i = Math.floor(next() * s.sections.length);
      return within(s.sections[i], ends[i]);
    });
    // Inside the largest device sections (where checkpoints inside a section are taken up).
    const largest = s.sections
      .map((at, i) => ({ at, end: ends[i] }))
      .sort((a, b) => b.end - b.at - (a.end - a.at))
      .slice(0, 3)
      .flatMap((x) => [within(x.at, x.end), within(x.at, x.end), x.end - 1, x.end - 600]);
    const at = [
      s.eof,
      s.eof + 1,
      within(s.eof + 1, s.bytes.length),
      ...marks,
      ...inSections,
      ...largest,
      ...Array.from({ length: 8 }, () => Math.floor(next() * s.bytes.length)),
    ];
    for (const a of at) {
      const fast = await cuts.cut(a);
      const slow = await cuts.cut(a, true);
      expect({ f, a, fast }).toEqual({ f, a, fast: slow });
    }
  }
}, 120_000);

test('every saved reproducer now decodes or fails with a typed error, in time', async () => {
  const files = fs.existsSync(REPRO_DIR)
    ? fs.readdirSync(REPRO_DIR).filter((f) => f.endsWith('.mig'))
    : [];
  for (const f of files) {
    const meta = JSON.parse(
      fs.readFileSync(path.join(REPRO_DIR, f.replace(/\.mig$/, '.json')), 'utf8'),
    ) as {
      kind: string;
    };
    const bytes = new Uint8Array(fs.readFileSync(path.join(REPRO_DIR, f)));
    // CPU time, not the wall clock: the machine may be shared (process-wide, an upper bound).
    const before = process.cpuUsage();
    const o = await runOne(bytes);
    const cpu = process.cpuUsage(before);
    expect({ f, outcome: o.kind === 'crash' ? o : o.kind }).not.toMatchObject({
      outcome: { kind: 'crash' },
    });
    const cpuMs = (cpu.user + cpu.system) / 1000;
    expect({ f, cpuMs, slow: cpuMs > 10_000 }).toMatchObject({ f, slow: false });
    // A cut that decoded without an error must now fail (other cuts may be whole streams).
    if (meta.kind === 'truncation-exit-0')
      expect({ f, outcome: o.kind }).not.toEqual({ f, outcome: 'ok' });
  }
});

/**
 * The in-process memory failures of the mutation runs (memory-*): each input alone peaks low; what
 * the campaign's worker kept was its state per seed (the walker's checkpoints of every seed, kept
 * for the whole run: 2.1 MiB a rich seed, with a RAM checkpoint every 8th record). Replayed as the
 * worker runs them (from their seed's checkpoints), they keep nothing, and a seed's state is small.
 */
test('the memory reproducers, replayed from their seeds: small state per seed, nothing kept', async () => {
  expect(collectGarbage).toBeDefined();
  const files = new Map(seedStreamFiles().map((f) => [seedName(f), f]));
  const cases: { f: string; d: Descriptor & { kind: 'mutate' } }[] = [];
  for (const f of fs.readdirSync(REPRO_DIR).filter((x) => /^memory-.*\.json$/.test(x))) {
    const d = (
      JSON.parse(fs.readFileSync(path.join(REPRO_DIR, f), 'utf8')) as { descriptor: Descriptor }
    ).descriptor;
    if (d.kind === 'mutate' && files.has(d.stream)) cases.push({ f, d });
  }
  expect(cases.length).toBeGreaterThanOrEqual(3);
  const seeds = new Map<string, SeedStream>();
  for (const { d } of cases)
    if (!seeds.has(d.stream)) seeds.set(d.stream, await loadSeed(files.get(d.stream)!));
  const heap = () => {
    collectGarbage!();
    return process.memoryUsage().heapUsed / 1048576;
  };
  // Once first: the catalogs of the seeds' machine types are built then (and kept: they are values).
  for (const s of seeds.values()) await StreamMutations.of(s);
  const before = heap();
  const state = new Map<string, StreamMutations>();
  for (const s of seeds.values()) state.set(s.name, await StreamMutations.of(s));
  const perSeed = (heap() - before) / seeds.size;
  // 0.7-0.8 MiB now for a rich seed (its contents and checkpoints); 2.1 MiB before.
  expect({ perSeed, small: perSeed < 1.25 }).toEqual({ perSeed, small: true });
  const settled = heap();
  for (const { f, d } of cases) {
    const bytes = new Uint8Array(
      fs.readFileSync(path.join(REPRO_DIR, f.replace(/\.json$/, '.mig'))),
    );
    const r = await state.get(d.stream)!.run(bytes);
    expect({ f, outcome: r.outcome.kind }).not.toEqual({ f, outcome: 'crash' });
  }
  const kept = heap() - settled;
  expect({ kept, small: kept < 4 }).toEqual({ kept, small: true });
  expect(state.size).toBe(seeds.size); // the state is still held while measured
}, 60_000);

/**
 * The campaign's memory check asks an input that grew the worker's RSS over the line to run
 * alone as a process: every memory reproducer, hostile shapes included, peaks under the issue's
 * budget there (the worker's RSS high-water mark holds the seeds' state and earlier inputs).
 */
test('every memory reproducer alone, through the built CLI, peaks under the 100 MiB budget', () => {
  expect(builtCli()).toBeDefined(); // npm run build (CI builds it in npm ci)
  const files = fs.readdirSync(REPRO_DIR).filter((x) => /^memory-.*\.mig$/.test(x));
  expect(files.length).toBeGreaterThanOrEqual(3);
  for (const f of files) {
    const rss = peakRssAlone(new Uint8Array(fs.readFileSync(path.join(REPRO_DIR, f))))!;
    expect({ f, rssMiB: Math.round(rss / 1048576), under: rss < CLI_RSS_LIMIT }).toMatchObject({
      f,
      under: true,
    });
  }
}, 120_000);
