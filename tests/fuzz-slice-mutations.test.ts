/**
 * The campaign's mutations are walked from a checkpoint of their seed and stop once back in step
 * with it (tests/fuzz/mutations.ts): each must end exactly as runOne ends it from byte 0. Seeded
 * like the slice (VMSTATE_FUZZ_SEED repeats one).
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPRO_DIR } from './fuzz/campaign';
import {
  inputBytes,
  loadSeed,
  MUTATIONS,
  mutate,
  rng,
  seedName,
  seedStreamFiles,
  type Descriptor,
  type SeedStream,
} from './fuzz/inputs';
import { changed, StreamMutations } from './fuzz/mutations';
import { runOne, type Outcome } from './fuzz/run-one';

const seed = Number(process.env.VMSTATE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const same = (o: Outcome) =>
  o.kind === 'typed' ? `typed ${o.code} at ${o.offset}: ${o.message}` : o.kind;

test('changed() finds the first and last differing byte', () => {
  const a = new Uint8Array(10000);
  const b = a.slice();
  expect(changed(a, b)).toEqual([-1, -1]);
  b[17] = 1;
  b[9001] = 2;
  expect(changed(a, b)).toEqual([17, 9001]);
  expect(changed(a, b.subarray(0, 9000))).toEqual([17, 9999]);
  const c = a.slice();
  c[4095] = 1;
  c[4096] = 1;
  expect(changed(a, c)).toEqual([4095, 4096]);
});

test('a mutation walked from a checkpoint ends exactly as decoded from byte 0', async () => {
  console.log(`fuzz mutations: seed ${seed} (again: VMSTATE_FUZZ_SEED=${seed})`);
  const names = ['qemu-5.2/pc-5.2-nodefaults-paused', 'qemu-10.0/q35-10.0-defaults'];
  const files = seedStreamFiles().filter((f) => names.includes(seedName(f)));
  expect(files.length).toBe(2);
  const r = rng(seed);
  const paths: Record<string, number> = {};
  for (const f of files) {
    const s = await loadSeed(f);
    const m = await StreamMutations.of(s);
    for (const mutation of MUTATIONS)
      for (let k = 0; k < 3; k++) {
        const ms = Math.floor(r() * 2 ** 31);
        const bytes = mutate(s, mutation, ms);
        const fast = await m.run(bytes);
        paths[fast.path + (fast.inStep ? ' in step' : '')] =
          (paths[fast.path + (fast.inStep ? ' in step' : '')] ?? 0) + 1;
        const slow = await runOne(bytes, true);
        expect({ f, mutation, ms, fast: same(fast.outcome) }).toEqual({
          f,
          mutation,
          ms,
          fast: same(slow),
        });
      }
  }
  console.log(paths);
  // The fast paths are taken (not every input decoded from byte 0).
  expect((paths.resumed ?? 0) + (paths['resumed in step'] ?? 0)).toBeGreaterThan(10);
}, 60_000);

test('a vmdesc-json mutation of the description parsed once is that of one parsed afresh', async () => {
  const f = seedStreamFiles().find((x) => seedName(x) === 'qemu-7.2/q35-7.2-rich-max')!;
  const s = await loadSeed(f);
  expect(s.vmdesc).toBeDefined();
  const r = rng(seed);
  let changedOnes = 0;
  for (let k = 0; k < 120; k++) {
    const ms = Math.floor(r() * 2 ** 31);
    // Once, then afresh: a change not put back would show in the next input.
    const once = Buffer.from(mutate(s, 'vmdesc-json', ms));
    const afresh = Buffer.from(mutate(s, 'vmdesc-json', ms, { freshDescription: true }));
    expect({ ms, same: once.equals(afresh) }).toEqual({ ms, same: true });
    if (!once.equals(Buffer.from(s.bytes))) changedOnes++;
  }
  expect(changedOnes).toBeGreaterThan(100);
}, 60_000);

test('every saved mutation reproducer is made again byte for byte from its descriptor', async () => {
  const seeds = new Map<string, SeedStream>();
  const byName = new Map(seedStreamFiles().map((f) => [seedName(f), f]));
  // Reproducers saved before the seeds were named by release (no such stream now) are left out.
  const made: Record<string, number> = {};
  for (const f of fs.readdirSync(REPRO_DIR).filter((x) => x.endsWith('.json'))) {
    const d = (
      JSON.parse(fs.readFileSync(path.join(REPRO_DIR, f), 'utf8')) as { descriptor: Descriptor }
    ).descriptor;
    if (d.kind !== 'mutate' || !byName.has(d.stream)) continue;
    if (!seeds.has(d.stream)) seeds.set(d.stream, await loadSeed(byName.get(d.stream)!));
    const saved = fs.readFileSync(path.join(REPRO_DIR, f.replace(/\.json$/, '.mig')));
    expect({ f, same: saved.equals(Buffer.from(inputBytes(d, seeds))) }).toEqual({ f, same: true });
    made[d.mutation] = (made[d.mutation] ?? 0) + 1;
  }
  expect(Object.values(made).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(7);
  expect(made['vmdesc-json']).toBeGreaterThanOrEqual(2);
}, 60_000);
