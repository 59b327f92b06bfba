/**
 * What a sender puts on the wire for a state, found by walking its description the way the
 * engine's saver does (pre_save at every level, field tests and versions, needed() of every
 * subsection, struct fields recursively): the state paths of every value sent, and every
 * subsection sent with its version. Migration compares exactly these paths on both sides, and
 * the expected outcome of a migration follows from the subsections sent.
 */
import { holdsState } from '../dsl/field';
import type { Ctx, State } from '../dsl/kind';
import type { AnyVMSDesc } from '../dsl/vmsd';
import { fieldExists, subsectionNeeded } from '../engine/fields';
import { HookError, VMStateError } from '../errors';
import { valuesEqual } from '../dsl/kinds';

/** A path into a state: keys, and indexes into arrays of structs. */
export type StatePath = readonly (string | number)[];

export interface SentVmsd {
  readonly name: string;
  readonly version: number;
}

export interface Sent {
  /** Every value that travels, by path (struct fields are followed into their own fields). */
  readonly paths: StatePath[];
  /** The value written at each path (after pre_save), parallel to `paths`. */
  readonly values: unknown[];
  /** Every subsection that travels, outermost first. */
  readonly subsections: SentVmsd[];
}

/** Walks what `save(desc, state, {ctx})` writes; a pre_save that refuses throws a HookError, as the saver does. */
export function sentBy(desc: AnyVMSDesc, state: Readonly<State>, ctx: Ctx): Sent {
  const out: Sent = { paths: [], values: [], subsections: [] };
  walk(desc, state, ctx, [], out);
  return out;
}

function walk(
  d: AnyVMSDesc,
  given: Readonly<State>,
  ctx: Ctx,
  prefix: (string | number)[],
  out: Sent,
): void {
  let state = given;
  if (d.pre_save) {
    try {
      state = (d.pre_save(given, ctx) as State | undefined) ?? given;
    } catch (e) {
      if (e instanceof VMStateError) throw e;
      throw new HookError(
        `${d.name}: pre_save`,
        e instanceof Error ? e.message : String(e),
        0,
        [...prefix.map(String), d.name].join(' > '),
      );
    }
  }
  for (const f of d.fields) {
    if (!holdsState(f.shape) || !fieldExists(f, state, d.version_id, ctx)) continue;
    const nested = (f.kind as { desc?: AnyVMSDesc }).desc;
    const value = state[f.key];
    if (nested && f.shape === 'value' && isState(value))
      walk(nested, value, ctx, [...prefix, f.key], out);
    else if (nested && f.shape === 'array' && Array.isArray(value))
      value.forEach((e, i) =>
        isState(e)
          ? walk(nested, e, ctx, [...prefix, f.key, i], out)
          : leaf(out, [...prefix, f.key, i], e),
      );
    else leaf(out, [...prefix, f.key], value);
  }
  for (const sub of d.subsections as readonly AnyVMSDesc[]) {
    if (!subsectionNeeded(sub, state, ctx)) continue;
    out.subsections.push({ name: sub.name, version: sub.version_id });
    walk(sub, state, ctx, prefix, out);
  }
}

function leaf(out: Sent, path: StatePath, value: unknown): void {
  out.paths.push(path);
  out.values.push(value);
}

const isState = (v: unknown): v is State =>
  !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);

/** The value at a path, or undefined when the state has nothing there. */
export function valueAt(state: unknown, path: StatePath): unknown {
  let v = state;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[k];
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
