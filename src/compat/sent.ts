/**
 * What a sender puts on the wire for a state, as the engine's one walk of what is sent
 * (src/engine/sent.ts) finds it: the state paths of every value sent, and every subsection sent
 * with its version. Migration compares exactly these paths on both sides, and the expected
 * outcome of a migration follows from the subsections sent.
 */
import type { Ctx, State } from '../dsl/kind';
import type { AnyVMSDesc } from '../dsl/vmsd';
import { walkSent, type StatePath } from '../engine/sent';
import { valuesEqual } from '../dsl/kinds';

export type { StatePath };

export interface SentVmsd {
  readonly name: string;
  readonly version: number;
}

export interface Sent {
  /**
   * Every value that travels (struct fields are followed into their own fields), in the order
   * sent, as runs of values that one state object (or array of structs) holds.
   */
  readonly runs: SentRun[];
  /** Every subsection that travels, outermost first. */
  readonly subsections: SentVmsd[];
}

/** Values sent from one state object: its path, and each value's key there with the value written (after pre_save). */
export interface SentRun {
  readonly at: StatePath;
  readonly keys: (string | number)[];
  readonly values: unknown[];
}

/** What `save(desc, state, {ctx})` writes; a pre_save that refuses throws a HookError, as the saver does. */
export function sentBy(desc: AnyVMSDesc, state: Readonly<State>, ctx: Ctx): Sent {
  const out: Sent = { runs: [], subsections: [] };
  let run: SentRun | undefined;
  walkSent(desc, state as State, ctx, {
    value: (at, key, value) => {
      if (run?.at !== at) out.runs.push((run = { at, keys: [], values: [] }));
      run.keys.push(key);
      run.values.push(value);
    },
    subsection: (sub) => out.subsections.push({ name: sub.name, version: sub.version_id }),
  });
  return out;
}

/** The value at a path, or undefined when the state has nothing there. */
export function valueAt(state: unknown, path: StatePath): unknown {
  let v = state;
  for (let i = 0; i < path.length; i++) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[path[i]];
  }
  return v;
}

/** A path as people read it: `env.segs[1] > base`, `env.nested_state > hdr.vmx.vmxon_pa`. */
export function formatPath(path: StatePath): string {
  let s = '';
  for (const k of path) s += typeof k === 'number' ? `[${k}]` : s ? ` > ${k}` : k;
  return s;
}

/** The paths whose values differ between two states (or that one of them lacks). */
export function differingPaths(
  paths: readonly StatePath[],
  expected: unknown,
  actual: unknown,
): StatePath[] {
  const out: StatePath[] = [];
  for (const p of paths) {
    const a = valueAt(actual, p);
    if (a === undefined || !valuesEqual(valueAt(expected, p), a)) out.push(p);
  }
  return out;
}

/** Every subsection name a description knows, through struct fields too (names are unique across a tree). */
export function knownSubsections(
  d: AnyVMSDesc,
  into = new Map<string, AnyVMSDesc>(),
): Map<string, AnyVMSDesc> {
  for (const f of d.fields) {
    const nested = (f.kind as { desc?: AnyVMSDesc }).desc;
    if (nested) knownSubsections(nested, into);
  }
  for (const sub of d.subsections as readonly AnyVMSDesc[]) {
    into.set(sub.name, sub);
    knownSubsections(sub, into);
  }
  return into;
}
