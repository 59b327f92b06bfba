/**
 * Typed views of the values of the loosely typed states needed()/hooks receive (the engine
 * passes Readonly<State>); a missing key reads as zero, like a freshly reset CPUX86State.
 *
 * They take the value, not the state and a key: each caller reads its own key
 * (`num(s['env.hflags'])`), so every read site sees one key and V8 keeps it a fast
 * monomorphic load. A helper that read `s[key]` for every caller's key went through V8's
 * megamorphic keyed-load stub: 5-7% of a cpu save+load (perf).
 */
import type { State } from '../../src/dsl';

export function num(v: unknown): number {
  return typeof v === 'number'
    ? v
    : typeof v === 'boolean'
      ? Number(v)
      : typeof v === 'bigint'
        ? Number(v)
        : 0;
}

export function big(v: unknown): bigint {
  return typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : 0n;
}

export function obj(v: unknown): State | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
    ? (v as State)
    : undefined;
}

export function list(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

/** True when any element (or any field of any struct element) is non-zero. */
export function anyNonZero(values: readonly unknown[], fields?: readonly string[]): boolean {
  for (const v of values) {
    if (fields && v && typeof v === 'object') {
      for (const name of fields) if (nonZero((v as State)[name])) return true;
    } else if (nonZero(v)) return true;
  }
  return false;
}

/** anyNonZero with the struct elements' fields read by `test` (which says whether one is non-zero). */
export function anyNonZeroBy(
  values: readonly unknown[],
  test: (element: Readonly<State>) => boolean,
): boolean {
  for (const v of values) {
    if (v && typeof v === 'object') {
      if (test(v as State)) return true;
    } else if (nonZero(v)) return true;
  }
  return false;
}

export function nonZero(v: unknown): boolean {
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  return false;
}
