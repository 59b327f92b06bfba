/** jest globalSetup: picks the run's property-test seed (see seed.ts) and says how to replay it. */
export default function seedSetup(): void {
  if (process.env.VMSTATE_SEED === undefined)
    process.env.VMSTATE_SEED = String(Math.floor(Math.random() * 2 ** 31));
  process.stderr.write(
    `\nproperty-test seed ${process.env.VMSTATE_SEED} (replay: VMSTATE_SEED=${process.env.VMSTATE_SEED} npx jest <file>)\n`,
  );
}
