/**
 * The one seed of a test run's property tests. Unless VMSTATE_SEED is set, jest's global setup
 * (tests/support/seed-setup.ts) draws a new one each run and prints it, so CI explores new inputs
 * and a failure reproduces with `VMSTATE_SEED=<seed> npx jest <file>`.
 */
export function testSeed(): number {
  const raw = process.env.VMSTATE_SEED;
  const seed = Number(raw);
  if (raw === undefined || !Number.isSafeInteger(seed))
    throw new Error(`VMSTATE_SEED must be an integer (got ${raw ?? 'nothing'})`);
  return seed;
}
