/**
 * A bounded, seeded slice of the fuzz campaign (tests/fuzz, `npm run fuzz` for the whole one),
 * with a different seed each run (printed; VMSTATE_FUZZ_SEED repeats one), and every saved
 * reproducer as a regression test.
 */
import * as fs from 'fs';
import * as path from 'path';
import { formatReport, REPRO_DIR, runCampaign } from './fuzz/campaign';
import { runOne } from './fuzz/run-one';

const SLICE_SECONDS = Number(process.env.VMSTATE_FUZZ_SECONDS ?? 20);

test(
  'a seeded slice of the campaign: no crash, hang, memory blow-up or exit-0 truncation',
  async () => {
    const seed = Number(process.env.VMSTATE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(
      `fuzz slice: seed ${seed} (again: VMSTATE_FUZZ_SEED=${seed} or npm run fuzz -- --seed ${seed})`,
    );
    // In jest, beside other suites on a shared machine: a hang is 10 s here (2 s in npm run fuzz).
    const report = await runCampaign({
      seconds: SLICE_SECONDS,
      seed,
      worker: false,
      hangMs: 10_000,
      // The jest worker's RSS holds every suite it ran and collects late: growth there is the
      // runner's as much as ours, so the slice catches gross blow-ups only (npm run fuzz, in a
      // worker of its own, holds the 256 MiB line).
      rssLimitMiB: 1024,
    });
    console.log(formatReport(report));
    expect(report.inputs).toBeGreaterThan(0);
    expect(report.truncation.covered).toBeGreaterThan(0);
    expect(report.failures.map((f) => `${f.kind}: ${f.input}: ${f.message}`)).toEqual([]);
  },
  (SLICE_SECONDS + 40) * 1000,
);

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
    const t = Date.now();
    const o = await runOne(bytes);
    expect({ f, outcome: o.kind === 'crash' ? o : o.kind }).not.toMatchObject({
      outcome: { kind: 'crash' },
    });
    expect(Date.now() - t).toBeLessThan(10_000);
    // A cut that decoded without an error must now fail (other cuts may be whole streams).
    if (meta.kind === 'truncation-exit-0')
      expect({ f, outcome: o.kind }).not.toEqual({ f, outcome: 'ok' });
  }
});
