import type { State } from '../dsl/kind';
import { valuesEqual } from '../dsl/kinds';

// The initial values belong to the DSL (a struct kind's initial value needs them); re-exported
// here, where the engine's other state helpers live.
export {
  fillMissing,
  fillMissingField,
  initialState,
  initialValue,
  stateFields,
  withInitialValues,
} from '../dsl/initial';

/** Deep copy of a state, so loading into a receiver's state never changes the caller's object. */
export function cloneValue<T>(v: T): T {
  if (v instanceof Uint8Array) return v.slice() as T;
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (v && typeof v === 'object') {
    const out: State = {};
    for (const key of Object.keys(v)) out[key] = cloneValue((v as State)[key]);
    return out as T;
  }
  return v;
}

export function statesEqual(a: unknown, b: unknown): boolean {
  return valuesEqual(a, b);
}
