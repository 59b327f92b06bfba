/**
 * Fresh states for loads: every key of a description at its initial value, made by one
 * generated constructor per description.
 */
import type { State } from './kind';
import { initializers, lazyDescriptor, type Initializer } from './initial';
import type { AnyVMSDesc } from './vmsd';

const key = (k: string) => JSON.stringify(k);

/**
 * A description's fresh state for a load, and the filling of what the load left out. `make`
 * builds every key of the description and its subsections in one generated constructor (a
 * primitive initial value at once, an object initial value as `undefined` until `fill`, a large
 * byte buffer or scalar array as a lazy key, as fillMissing does), so V8 gives all states of a
 * description one fast hidden class: an object grown key by key past 128 keys (the x86 cpu has
 * 142) went into
 * dictionary mode, each store a hash insert. The keys come in the description's order, so a
 * loaded state's key order no longer depends on which subsections the stream had. Both the
 * compiled plan and the interpreter load into it (engine/plan.ts, engine/load.ts).
 */
export interface FreshState {
  readonly make: () => State;
  /** Gives each key still `undefined` its initial value (an object: made per state). */
  readonly fill: (s: State) => void;
}

const cache = new WeakMap<AnyVMSDesc, FreshState>();
/** The description's fresh-state maker, generated on first use. */
export function freshStateOf(d: AnyVMSDesc): FreshState {
  let f = cache.get(d);
  if (!f) cache.set(d, (f = generateFresh(initializers(d))));
  return f;
}

function generateFresh(inits: readonly Initializer[]): FreshState {
  const x: unknown[] = [];
  const ext = (v: unknown) => `X[${x.push(v) - 1}]`;
  const made: string[] = [];
  const filled: string[] = [];
  const seen = new Set<string>();
  for (const i of inits) {
    if (seen.has(i.key)) continue;
    seen.add(i.key);
    const k = key(i.key);
    if (!i.make) made.push(`this[${k}] = ${ext(i.value)};`);
    // Large byte buffers and scalar arrays stay lazy (the cpu's 8 KiB AMX tile data, absent from
    // most streams); short arrays of structs do not: the cpu's register files were read by their own
    // load (a struct is loaded into the value it replaces), which made them only to drop them.
    else if (i.lazy && !(i.structs !== undefined && i.structs <= EAGER_STRUCTS))
      made.push(`Object.defineProperty(this, ${k}, ${ext(lazyDescriptor(i.make))});`);
    else {
      made.push(`this[${k}] = undefined;`);
      filled.push(`if (s[${k}] === undefined) s[${k}] = ${ext(i.make)}();`);
    }
  }
  const built = new Function(
    'X',
    `"use strict"; function FreshState() {\n${made.join('\n')}\n}\n` +
      // Plain objects to every reader (prototype, constructor), with the constructor's hidden class.
      `FreshState.prototype = Object.prototype;\n` +
      `return { make: () => new FreshState(), fill: function fill(s) {\n${filled.join('\n')}\n} };`,
  ) as (x: unknown[]) => FreshState;
  return built(x);
}

/**
 * Arrays of structs up to this long are made with the state (the cpu's register files: 8-32
 * entries); longer ones stay lazy, since a description from the stream may nest them (a mutated
 * VM description's nested arrays of structs, made at once, took one input from 89 to 119 MiB).
 */
const EAGER_STRUCTS = 32;

/**
 * A state with every key at its initial value (a struct kind's initial value): all made at once
 * but the large byte buffers and scalar arrays.
 */
export function freshInitialState(d: AnyVMSDesc): State {
  return freshInitialMaker(d)();
}

/** The maker freshInitialState calls, for a caller that makes many (a struct kind's initial value). */
export function freshInitialMaker(d: AnyVMSDesc): () => State {
  let make = initialMakers.get(d);
  if (!make) initialMakers.set(d, (make = initialMaker(d)));
  return make;
}

const initialMakers = new WeakMap<AnyVMSDesc, () => State>();
/**
 * A description whose keys all start at primitive values (the cpu's register slices, made for
 * every absent subsection's struct array at every load) gets one object literal of them; any
 * other, the fresh state filled.
 */
function initialMaker(d: AnyVMSDesc): () => State {
  const inits = initializers(d);
  if (inits.some((i) => i.make))
    return () => {
      const f = freshStateOf(d);
      const s = f.make();
      f.fill(s);
      return s;
    };
  const x: unknown[] = [];
  const props = new Map<string, string>();
  // A key listed twice keeps its first place, as the constructor's assignments give it.
  for (const i of inits) if (!props.has(i.key)) props.set(i.key, `X[${x.push(i.value) - 1}]`);
  const body = [...props].map(([k, v]) => `${key(k)}: ${v}`).join(', ');
  return new Function('X', `"use strict"; return () => ({ ${body} });`)(x) as () => State;
}
