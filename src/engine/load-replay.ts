/**
 * Field values of one walk of a stream, taken up again by walks of its prefixes: the fuzz
 * campaign decodes a stream cut at every offset (tests/fuzz/cuts.ts), and a cut inside a large
 * device section would otherwise decode the section from its start each time.
 *
 * While recording, the interpreter (load.ts) keeps each field it read whole, by the absolute
 * offset it started at: a frozen copy of its value right after the read and where it ended. While
 * replaying a prefix that ends at `end`, a field read at the same offset that ended at least
 * MARGIN bytes before `end` is that value again: the bytes before it are the same, so the
 * interpreter, which is deterministic, would read the same value from them (the margin covers
 * what a read looks past its last byte: a subsection's marker and name). Everything else,
 * including the field the prefix ends in and every error, is decoded for real. Both modes run
 * the interpreter only (the plan, which agrees with it, records nothing).
 */
import type { AnyField } from '../dsl/field';
import { statesEqual } from './state';

/** What a read may look at past its last byte (a subsection header: marker, length, name, version). */
export const REPLAY_MARGIN = 1024;
/** Fields shorter than this are read again (a lookup costs about what they do). */
const MIN_BYTES = 16;

export interface FieldRecord {
  readonly value: unknown;
  readonly end: number;
}

export class LoadReplay {
  private readonly fields = new Map<number, Map<AnyField, FieldRecord>>();
  /** Arrays read whole: each element's value and where it ended. */
  private readonly arrays = new Map<
    number,
    Map<AnyField, { values: readonly unknown[]; ends: readonly number[] }>
  >();
  /** 'replay': the input walked ends at `end` (absolute); 'record': the whole stream is walked. */
  mode: 'record' | 'replay' = 'record';
  end = 0;
  /** Field reads taken from the record (for tests and the bench). */
  hits = 0;

  get size(): number {
    let n = 0;
    for (const m of this.fields.values()) n += m.size;
    return n;
  }

  /** The value read at `at` for `f`, when it ended far enough before the end of the input. */
  take(at: number, f: AnyField): FieldRecord | undefined {
    const rec = this.fields.get(at)?.get(f);
    if (rec && rec.end + REPLAY_MARGIN <= this.end) {
      this.hits++;
      return rec;
    }
    return undefined;
  }

  /**
   * Fills `out` with the elements of array `f` read from `at` that ended far enough before the
   * end of the input; returns how many (then `elementsEnd` is where the last one ended).
   */
  takeElements(at: number, f: AnyField, out: unknown[]): number {
    const rec = this.arrays.get(at)?.get(f);
    if (!rec) return 0;
    const { ends, values } = rec;
    let lo = 0;
    let hi = ends.length - 1;
    let count = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid] + REPLAY_MARGIN <= this.end) {
        count = mid + 1;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (count === 0) return 0;
    for (let i = 0; i < count; i++) out[i] = values[i];
    this.elementsEnd = ends[count - 1];
    this.hits++;
    return count;
  }

  elementsEnd = 0;

  keepElements(at: number, f: AnyField, values: unknown[], ends: number[]): void {
    if (ends.length === 0 || ends[ends.length - 1] - at < MIN_BYTES) return;
    let m = this.arrays.get(at);
    if (!m) this.arrays.set(at, (m = new Map()));
    if (!m.has(f)) m.set(f, { values: values.map((v) => this.frozenCopy(v)), ends });
  }

  /** Live values already copied, and their copies (shared by the copy of an enclosing value while equal). */
  private readonly copies = new WeakMap<object, unknown>();

  /**
   * A copy of `v` as it is now (cloneValue's), frozen, so that code writing into a value taken
   * from the record fails loudly instead of changing it for the next cut. Parts copied before
   * (a struct's fields, an array's elements) are shared while they still hold the same value:
   * each level of a section would otherwise hold its own copy.
   */
  private frozenCopy(v: unknown): unknown {
    if (!v || typeof v !== 'object') return v;
    const known = this.copies.get(v);
    if (known !== undefined && statesEqual(v, known)) return known;
    let c: unknown;
    if (v instanceof Uint8Array) c = v.slice();
    else if (Array.isArray(v)) c = Object.freeze(v.map((x) => this.frozenCopy(x)));
    else {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v)) o[k] = this.frozenCopy((v as Record<string, unknown>)[k]);
      c = Object.freeze(o);
    }
    this.copies.set(v, c);
    return c;
  }

  keep(at: number, f: AnyField, value: unknown, end: number): void {
    if (end - at < MIN_BYTES) return;
    let m = this.fields.get(at);
    if (!m) this.fields.set(at, (m = new Map()));
    // The first read wins: the same field cannot start twice at one offset in one walk.
    if (!m.has(f)) m.set(f, { value: this.frozenCopy(value), end });
  }
}

/** The replay in use (one walk at a time: the campaign's cuts run one after another). */
export let activeReplay: LoadReplay | undefined;

/** Runs `walk` with `replay` in use (undefined: none). */
export async function withReplay<T>(
  replay: LoadReplay | undefined,
  walk: () => Promise<T>,
): Promise<T> {
  const outer = activeReplay;
  activeReplay = replay;
  try {
    return await walk();
  } finally {
    activeReplay = outer;
  }
}
