/**
 * `npm run bench -- fuzz-cuts`: the CPU time of one truncation cut of the fuzz campaign
 * (tests/fuzz/cuts.ts), at seeded uniform offsets of every committed real stream, weighted by
 * stream size (the average over all offsets), against the same cuts decoded from byte 0 in the
 * same run. CPU time (process.cpuUsage), not the wall clock: the machine may be shared.
 */
import { StreamCuts } from '../fuzz/cuts';
import { loadSeed, rng, seedStreamFiles } from '../fuzz/inputs';

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export async function benchFuzzCuts(
  o: { perStream?: number; seed?: number; only?: RegExp; fromZeroEvery?: number } = {},
): Promise<void> {
  // As in the campaign's worker (tests/fuzz/worker.ts): every cut throws, no stack is looked at.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const perStream = o.perStream ?? Number(process.env.VMSTATE_BENCH_CUTS ?? 400);
  const fromZeroEvery = o.fromZeroEvery ?? Number(process.env.VMSTATE_BENCH_ZERO_EVERY ?? 20);
  const r = rng(o.seed ?? 20261201);
  let bytes = 0;
  let weighted = 0;
  let weightedZero = 0;
  const rows: { name: string; size: number; ms: number; zero: number }[] = [];
  for (const f of seedStreamFiles()) {
    const s = await loadSeed(f);
    if (o.only && !o.only.test(s.name)) continue;
    const cuts = await StreamCuts.of(s);
    const at = Array.from({ length: perStream }, () => Math.floor(r() * s.bytes.length));
    for (const a of at.slice(0, 20)) await cuts.cut(a); // warm-up, not counted
    const t0 = cpuMs();
    for (const a of at) await cuts.cut(a);
    const ms = (cpuMs() - t0) / at.length;
    const some = at.filter((_, i) => i % fromZeroEvery === 0);
    const t1 = cpuMs();
    for (const a of some) await cuts.cut(a, true);
    const zero = (cpuMs() - t1) / some.length;
    rows.push({ name: s.name, size: s.bytes.length, ms, zero });
    bytes += s.bytes.length;
    weighted += ms * s.bytes.length;
    weightedZero += zero * s.bytes.length;
  }
  Error.stackTraceLimit = stackTraceLimit;
  rows.sort((a, b) => b.ms * b.size - a.ms * a.size);
  console.log(
    'fuzz cuts: CPU per cut at uniform offsets (checkpoints / from byte 0), share of the total',
  );
  for (const x of rows.slice(0, 15))
    console.log(
      `  ${x.name.padEnd(44)} ${(x.size / 1e6).toFixed(2).padStart(6)} MB  ${x.ms.toFixed(4)} / ${x.zero.toFixed(3)} ms  ${((100 * x.ms * x.size) / weighted).toFixed(1)}%`,
    );
  const avg = weighted / bytes;
  console.log(
    `  all ${rows.length} streams, ${bytes} offsets: ${avg.toFixed(4)} ms per cut (goal 0.03), ` +
      `${((avg * bytes) / 1000).toFixed(0)} CPU-s in all; from byte 0 ${(weightedZero / bytes).toFixed(3)} ms ` +
      `(${(weightedZero / weighted).toFixed(1)}x)`,
  );
}

if (require.main === module)
  void benchFuzzCuts({ only: process.argv[2] ? new RegExp(process.argv[2]) : undefined });
