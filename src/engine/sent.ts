/**
 * The one walk of "what a description sends for a state", in the saver's order (fields whose
 * version or test lets them exist, struct fields into their own description, then every
 * subsection whose needed() holds). Migration compares what was sent, the arbitraries reset
 * what is not sent, the expected outcome follows from the subsections sent: all through this.
 */
import { holdsState, type AnyField } from '../dsl/field';
import type { Ctx, State } from '../dsl/kind';
import type { AnyVMSDesc } from '../dsl/vmsd';
import { HookError, VMStateError } from '../errors';
import { fieldExists, subsectionNeeded } from './fields';

/** A path into a state: keys, and indexes into arrays of structs. */
export type StatePath = readonly (string | number)[];

export interface SentVisitor {
  /** Every field that travels at a level (not `unused`, not `validate`), before its struct is entered. */
  field?(f: AnyField, state: State, path: StatePath): void;
  /** Every value that travels and is not itself a struct (only when `structs` is on). */
  leaf?(path: StatePath, value: unknown): void;
  /** Every subsection that travels, outermost first, before its fields. */
  subsection?(sub: AnyVMSDesc, path: StatePath): void;
}

export interface SentWalkOptions {
  /** Run pre_save at every level as the saver does (a refusal throws a HookError). Default true. */
  readonly preSave?: boolean;
  /** Enter struct values (field by field) rather than stopping at the struct field. Default true. */
  readonly structs?: boolean;
}

export function walkSent(
  desc: AnyVMSDesc,
  state: State,
  ctx: Ctx,
  visitor: SentVisitor,
  opts: SentWalkOptions = {},
): void {
  walk(desc, state, ctx, [], visitor, opts.preSave ?? true, opts.structs ?? true);
}

function walk(
  d: AnyVMSDesc,
  given: State,
  ctx: Ctx,
  prefix: (string | number)[],
  v: SentVisitor,
  preSave: boolean,
  structs: boolean,
): void {
  let state = given;
  if (preSave && d.pre_save) {
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
    v.field?.(f, state, prefix);
    if (!structs) continue;
    const nested = (f.kind as { desc?: AnyVMSDesc }).desc;
    const value = state[f.key];
    if (nested && f.shape === 'value' && isState(value))
      walk(nested, value, ctx, [...prefix, f.key], v, preSave, structs);
    else if (nested && f.shape === 'array' && Array.isArray(value))
      value.forEach((e, i) =>
        isState(e)
          ? walk(nested, e, ctx, [...prefix, f.key, i], v, preSave, structs)
          : v.leaf?.([...prefix, f.key, i], e),
      );
    else v.leaf?.([...prefix, f.key], value);
  }
  for (const sub of d.subsections as readonly AnyVMSDesc[]) {
    if (!subsectionNeeded(sub, state, ctx)) continue;
    v.subsection?.(sub, prefix);
    walk(sub, state, ctx, prefix, v, preSave, structs);
  }
}

const isState = (v: unknown): v is State =>
  !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
