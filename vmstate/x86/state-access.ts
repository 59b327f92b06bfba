/**
 * Typed reads of the loosely typed states needed()/hooks receive (the engine passes
 * Readonly<State>); a missing key reads as zero, like a freshly reset CPUX86State.
 */
import type { State } from '../../src/dsl';

export function num(s: Readonly<State>, key: string): number {
  const v = s[key];
  return typeof v === 'number'
    ? v
    : typeof v === 'boolean'
      ? Number(v)
      : typeof v === 'bigint'
        ? Number(v)
        : 0;
}

export function big(s: Readonly<State>, key: string): bigint {
  const v = s[key];
  return typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : 0n;
}

export function obj(s: Readonly<State>, key: string): State | undefined {
  const v = s[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
    ? (v as State)
    : undefined;
}

export function list(s: Readonly<State>, key: string): readonly unknown[] {
  const v = s[key];
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
