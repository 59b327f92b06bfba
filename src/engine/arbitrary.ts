import * as fc from 'fast-check';
import { unreachableShape, type AnyField } from '../dsl/field';
import type { AnyVMSD, Ctx, Kind, State } from '../dsl/kind';
import type { AnyVMSDesc, StateOf } from '../dsl/vmsd';
import { walkSent } from './sent';
import { initialState, initialValue, stateFields, statesEqual } from './state';

export interface ArbitraryOptions {
  readonly ctx?: Ctx;
  /** Longest variable array or buffer generated (below each field's own maximum). */
  readonly maxVarLength?: number;
  /** Extra bias per state key: an arbitrary used instead of the kind's own (e.g. to reach needed() branches). */
  readonly overrides?: Readonly<Record<string, fc.Arbitrary<unknown>>>;
}

/**
 * Valid states of a description: every field from its kind's arbitrary, variable lengths agreeing
 * with their count fields, and (canonical form) everything that would not travel reset to its
 * initial value, so that load(save(s)) equals s exactly.
 */
export function arbitraryState<D extends AnyVMSDesc>(
  desc: D,
  opts: ArbitraryOptions = {},
): fc.Arbitrary<StateOf<D>> {
  const ctx = opts.ctx ?? {};
  const maxVar = opts.maxVarLength ?? 8;
  const fields = stateFields(desc);
  // Count fields first: each varray/vbuffer takes its length from one, so lengths are drawn once per count field.
  const countMax = new Map<string, number>();
  for (const f of fields)
    if (f.count.from === 'field')
      countMax.set(
        f.count.field,
        Math.min(f.count.max, countMax.get(f.count.field) ?? Infinity, maxVar),
      );
  const counts = fc.record(
    Object.fromEntries([...countMax].map(([key, max]) => [key, fc.integer({ min: 0, max })])),
  );
  return counts.chain((lengths) => {
    const parts: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of fields) {
      if (f.key in parts) continue;
      const override = opts.overrides?.[f.key];
      parts[f.key] = override ?? fieldArbitrary(f, lengths, opts);
    }
    return fc.record(parts).map((raw) => {
      const s = raw as State;
      for (const [key, n] of Object.entries(lengths))
        s[key] = typeof s[key] === 'bigint' ? BigInt(n) : n;
      return canonicalState(desc, s, ctx) as StateOf<D>;
    });
  });
}

function fieldArbitrary(
  f: AnyField,
  lengths: Record<string, number>,
  opts: ArbitraryOptions,
): fc.Arbitrary<unknown> {
  const elem = elementArbitrary(f.kind, opts);
  switch (f.shape) {
    case 'value':
      return elem;
    case 'vbuffer': {
      const n = lengths[(f.count as { field: string }).field];
      return fc.uint8Array({ minLength: n, maxLength: n });
    }
    case 'array': {
      const n =
        f.count.from === 'fixed' ? f.count.n : lengths[(f.count as { field: string }).field];
      return fc.array(elem, { minLength: n, maxLength: n });
    }
    case 'unused':
    case 'validate':
      return fc.constant(initialValue(f));
    default:
      return unreachableShape(f.shape);
  }
}

function elementArbitrary(kind: Kind<unknown>, opts: ArbitraryOptions): fc.Arbitrary<unknown> {
  const nested = (d: AnyVMSD) =>
    arbitraryState(d as AnyVMSDesc, { ...opts, overrides: undefined }) as fc.Arbitrary<State>;
  return kind.arbitrary(fc, nested);
}

/**
 * The state as a receiver starting from initial values would see it after loading what the sender
 * writes: fields that do not exist for the version or test, and fields of subsections that are not
 * needed, go back to their initial values (a key sent anywhere keeps its value).
 */
export function canonicalState(desc: AnyVMSDesc, s: State, ctx: Ctx = {}): State {
  const fresh = initialState(desc) as State;
  // Resetting a field can change a gate or a needed() that reads it, so repeat until nothing
  // changes (each round only resets values, so this settles within a few rounds).
  for (let round = 0; round < 16; round++) {
    const sent = sentKeys(desc, s, ctx);
    let changed = false;
    for (const f of stateFields(desc)) {
      if (sent.has(f.key) || statesEqual(s[f.key], fresh[f.key])) continue;
      s[f.key] = fresh[f.key];
      changed = true;
    }
    if (!changed) return s;
  }
  return s;
}

/** The keys a sender writes for this state (nested struct values are canonicalized on the way). */
function sentKeys(desc: AnyVMSDesc, s: State, ctx: Ctx): Set<string> {
  const sent = new Set<string>();
  walkSent(
    desc,
    s,
    ctx,
    {
      field: (f) => {
        sent.add(f.key);
        const nested = (f.kind as { desc?: AnyVMSDesc }).desc;
        if (nested && f.shape === 'value')
          s[f.key] = canonicalState(nested, s[f.key] as State, ctx);
        else if (nested)
          s[f.key] = (s[f.key] as State[]).map((e) => canonicalState(nested, e, ctx));
      },
    },
    { preSave: false, structs: false },
  );
  return sent;
}

/**
 * The receiver's side of a state: initial values, except the `agreed` fields (`_equal`, `int32 le`)
 * which both sides must hold alike, copied from `s` (recursively through structs).
 */
export function receiverState(desc: AnyVMSDesc, s: Readonly<State>): State {
  const out = initialState(desc) as State;
  for (const f of stateFields(desc)) {
    const nested = (f.kind as { desc?: AnyVMSDesc }).desc;
    if (f.kind.agreed) out[f.key] = s[f.key];
    else if (nested && f.shape === 'value') out[f.key] = receiverState(nested, s[f.key] as State);
    else if (nested && f.shape === 'array')
      out[f.key] = (s[f.key] as State[]).map((e) => receiverState(nested, e));
  }
  return out;
}
