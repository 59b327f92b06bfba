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
  /** The same values as `leaf`, by the path of the state (or array of structs) holding them and their key there: no path is made per value. */
  value?(at: StatePath, key: string | number, value: unknown): void;
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
  walk(desc, state, ctx, ROOT, visitor, opts.preSave ?? true, opts.structs ?? true);
}

/** A description's fields that hold state, with their nested description looked up once. */
interface SentField {
  readonly f: AnyField;
  readonly nested: AnyVMSDesc | undefined;
  /** Whether the field is on the wire at the description's own version without asking (no test). */
  readonly always: boolean;
}
const sentFieldsCache = new WeakMap<AnyVMSDesc, readonly SentField[]>();
function sentFields(d: AnyVMSDesc): readonly SentField[] {
  let list = sentFieldsCache.get(d);
  if (!list) {
    list = d.fields
      .filter((f) => holdsState(f.shape) && (f.exists || f.version <= d.version_id))
      .map((f) => ({
        f,
        nested: (f.kind as { desc?: AnyVMSDesc }).desc,
        always: !f.exists,
      }));
    sentFieldsCache.set(d, list);
  }
  return list;
}

/**
 * Paths are shared: the path of key k under a path p is made once and kept (a matrix walks the
 * same paths for every VM and release), so a walk allocates no path it has made before.
 */
const ROOT: StatePath = Object.freeze([]);
const children = new WeakMap<StatePath, Map<string | number, StatePath>>();
function child(p: StatePath, k: string | number): StatePath {
  let m = children.get(p);
  if (!m) children.set(p, (m = new Map()));
  let c = m.get(k);
  if (!c) m.set(k, (c = Object.freeze([...p, k])));
  return c;
}

function walk(
  d: AnyVMSDesc,
  given: State,
  ctx: Ctx,
  prefix: StatePath,
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
  const fields = sentFields(d);
  for (let i = 0; i < fields.length; i++) {
    const { f, nested, always } = fields[i];
    if (!always && !fieldExists(f, state, d.version_id, ctx)) continue;
    v.field?.(f, state, prefix);
    if (!structs) continue;
    const value = state[f.key];
    if (nested && f.shape === 'value' && isState(value))
      walk(nested, value, ctx, child(prefix, f.key), v, preSave, structs);
    else if (nested && f.shape === 'array' && Array.isArray(value)) {
      const at = child(prefix, f.key);
      for (let k = 0; k < value.length; k++) {
        const e: unknown = value[k];
        if (isState(e)) walk(nested, e, ctx, child(at, k), v, preSave, structs);
        else {
          v.value?.(at, k, e);
          v.leaf?.(child(at, k), e);
        }
      }
    } else {
      v.value?.(prefix, f.key, value);
      if (v.leaf) v.leaf(child(prefix, f.key), value);
    }
  }
  const subs = d.subsections as readonly AnyVMSDesc[];
  for (let i = 0; i < subs.length; i++) {
    const sub = subs[i];
    if (!subsectionNeeded(sub, state, ctx)) continue;
    v.subsection?.(sub, prefix);
    walk(sub, state, ctx, prefix, v, preSave, structs);
  }
}

const isState = (v: unknown): v is State =>
  !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
