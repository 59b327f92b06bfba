import { holdsState, unreachableShape, type AnyField } from './field';
import type { State } from './kind';
import type { AnyVMSDesc, StateOf } from './vmsd';

/** Keys of every field in a description and its subsections, recursively (they share one state). */
const fieldsCache = new WeakMap<AnyVMSDesc, AnyField[]>();
export function stateFields(d: AnyVMSDesc): AnyField[] {
  const cached = fieldsCache.get(d);
  if (cached) return cached;
  const out: AnyField[] = [];
  const walk = (v: AnyVMSDesc) => {
    for (const f of v.fields) if (holdsState(f.shape)) out.push(f);
    for (const s of v.subsections as readonly AnyVMSDesc[]) walk(s);
  };
  walk(d);
  fieldsCache.set(d, out);
  return out;
}

/** Gives every key the state lacks its initial value (after a load that skipped fields). */
export function fillMissing(d: AnyVMSDesc, s: State): State {
  for (const f of stateFields(d)) if (!(f.key in s)) s[f.key] = initialValue(f);
  return s;
}

/** The value a field has before anything is loaded: zeros, empty variable arrays, default structs. */
export function initialValue(f: AnyField): unknown {
  switch (f.shape) {
    case 'array':
      return f.count.from === 'fixed'
        ? Array.from({ length: f.count.n }, () => f.kind.initial())
        : [];
    case 'vbuffer':
      return new Uint8Array(0);
    case 'value':
    case 'unused':
    case 'validate':
      return f.kind.initial();
    default:
      return unreachableShape(f.shape);
  }
}

/** A fresh state for a description: every field of it and of its subsections at its initial value. */
export function initialState<D extends AnyVMSDesc>(d: D): StateOf<D> {
  return fillMissing(d, {}) as StateOf<D>;
}
