/**
 * Timing helpers for `npm run bench`: figures are read against a baseline from the same run.
 * In-process figures are this process's CPU time (user + system), not the wall clock: on a
 * machine shared with other work the wall clock mostly measures waiting for a core, and the
 * baseline and the code measured would each wait differently.
 */
export interface Measurement {
  name: string;
  /** CPU seconds per operation (median of several batches). */
  perOp: number;
  /** Bytes handled per operation, for MB/s. */
  bytes: number;
}

export function measure(
  name: string,
  fn: () => unknown,
  bytes: number,
  batches = 9,
  /** CPU seconds of calls before sizing the batches (JIT tiering of generated code, caches). */
  warmSeconds = 0,
): Measurement {
  if (warmSeconds > 0) {
    const t = cpuSeconds();
    while (cpuSeconds() - t < warmSeconds) for (let i = 0; i < 16; i++) fn();
  }
  // Warm up, then size a batch to about 50 ms so timer resolution does not matter.
  let n = 1;
  for (;;) {
    const t = cpuSeconds();
    for (let i = 0; i < n; i++) fn();
    if (cpuSeconds() - t > 0.05 || n > 1e6) break;
    n *= 2;
  }
  const times: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t = cpuSeconds();
    for (let i = 0; i < n; i++) fn();
    times.push((cpuSeconds() - t) / n);
  }
  times.sort((a, b) => a - b);
  return { name, perOp: times[Math.floor(times.length / 2)], bytes };
}

/** This process's CPU time so far, user + system, in seconds. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The middle value (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function printTable(title: string, rows: Measurement[], baseline: Measurement): void {
  console.log(`\n${title}`);
  for (const r of rows) {
    const mbps = r.bytes / r.perOp / 1e6;
    const ratio = baseline.perOp / r.perOp;
    console.log(
      `  ${r.name.padEnd(30)} ${(1 / r.perOp).toFixed(0).padStart(9)} ops/s  ${mbps.toFixed(1).padStart(8)} MB/s  ${ratio.toFixed(2).padStart(6)}x baseline`,
    );
  }
}

/** One goal of issue 11, printed with its verdict. */
export function goal(text: string, ok: boolean): void {
  console.log(`  goal ${text}  ${ok ? 'OK' : 'BELOW GOAL'}`);
}
