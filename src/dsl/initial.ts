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

/**
 * Each state field's key with how to make its initial value: the value itself when it is a
 * primitive (shared safely), else a maker. Worked out once per description: filling the keys a
 * load skipped (whole subsections of the cpu) is on the path of every load.
 */
export type Initializer = {
  key: string;
  value?: unknown;
  make?: () => unknown;
  lazy?: boolean;
  /** For a fixed array of structs: its length (fresh-state.ts makes short ones at once). */
  structs?: number;
};

/**
 * Fixed arrays (and byte buffers) at least this long get their initial value on first use: an absent subsection's
 * buffer (IDE's 128 KiB PIO buffer, once per drive: 14 of them in a q35 machine's AHCI) was half
 * a MiB made at every load and mostly never looked at.
 */
const LAZY_ELEMENTS = 4096;
const LAZY_STRUCTS = 8;
const initCache = new WeakMap<AnyVMSDesc, Initializer[]>();
export function initializers(d: AnyVMSDesc): Initializer[] {
  let list = initCache.get(d);
  if (!list) {
    list = stateFields(d).map(initializer);
    initCache.set(d, list);
  }
  return list;
}

function initializer(f: AnyField): Initializer {
  if (f.shape === 'array') {
    if (f.count.from !== 'fixed') return { key: f.key, make: () => [] };
    const n = f.count.n;
    const first = f.kind.initial();
    if (isPrimitive(first)) {
      // A copy of one array made once: Array.prototype.fill was a call into C++ at every load
      // (the cpu's absent MSR arrays); slice copies without one.
      const template = new Array<unknown>(n).fill(first);
      return { key: f.key, make: () => template.slice(), lazy: n >= LAZY_ELEMENTS };
    }
    // Arrays of structs too: xHCI's slots and endpoints, when the stream lacks them, were
    // thousands of objects made at every load.
    return { key: f.key, make: () => initialValue(f), lazy: n >= LAZY_STRUCTS, structs: n };
  }
  if (f.shape === 'vbuffer') return { key: f.key, make: () => new Uint8Array(0) };
  const v = f.kind.initial();
  if (isPrimitive(v)) return { key: f.key, value: v };
  // Large buffers too: the x86 cpu's 8 KiB AMX tile data, absent from most streams, was a zeroed
  // 8 KiB allocation (outside the heap, which the collector then tracks) at every load.
  const lazy = v instanceof Uint8Array && v.length >= LAZY_ELEMENTS;
  return { key: f.key, make: () => f.kind.initial(), lazy };
}

/** Gives one field the state lacks its initial value, as fillMissing does (a field a load left out). */
const fieldInits = new WeakMap<AnyField, Initializer>();
export function fillMissingField(f: AnyField, s: State): void {
  if (f.key in s) return;
  let i = fieldInits.get(f);
  if (!i) fieldInits.set(f, (i = initializer(f)));
  if (i.lazy) defineLazy(s, i);
  else s[i.key] = i.make ? i.make() : i.value;
}

function isPrimitive(v: unknown): boolean {
  return v === null || (typeof v !== 'object' && typeof v !== 'function');
}

const byKeyCache = new WeakMap<AnyVMSDesc, Map<string, Initializer>>();
function initializersByKey(d: AnyVMSDesc): Map<string, Initializer> {
  let m = byKeyCache.get(d);
  if (!m) byKeyCache.set(d, (m = new Map(initializers(d).map((i) => [i.key, i]))));
  return m;
}

/**
 * The state as a hook sees it in the middle of a load: what was loaded so far, and the initial
 * value of every other key of the description. A key is given its initial value (in the state
 * itself) only when the hook looks at it, so a pre_load that reads nothing costs nothing; filling
 * all of the x86 cpu's keys before its nested-state pre_load was a fifth of each load.
 */
export function withInitialValues(d: AnyVMSDesc, s: State): State {
  const inits = initializersByKey(d);
  // A state made by a plan's fresh-state maker holds every key from the start, `undefined` where
  // the initial value is an object not made yet: such a key is filled here too.
  const fill = (key: string | symbol): void => {
    const i =
      typeof key === 'string' && (!(key in s) || s[key] === undefined) ? inits.get(key) : undefined;
    if (i) s[i.key] = i.make ? i.make() : i.value;
  };
  return new Proxy(s, {
    get(target, key) {
      fill(key);
      return Reflect.get(target, key);
    },
    has(target, key) {
      return Reflect.has(target, key) || (typeof key === 'string' && inits.has(key));
    },
    ownKeys(target) {
      const own = Reflect.ownKeys(target);
      for (const key of inits.keys()) if (!(key in target)) own.push(key);
      return own;
    },
    getOwnPropertyDescriptor(target, key) {
      fill(key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
}

/** Gives every key the state lacks its initial value (after a load that skipped fields). */
export function fillMissing(d: AnyVMSDesc, s: State): State {
  for (const i of initializers(d))
    if (!(i.key in s)) {
      if (i.lazy) defineLazy(s, i);
      else s[i.key] = i.make ? i.make() : i.value;
    }
  return s;
}

/**
 * An own, enumerable key whose value is made when first read (or replaced when first written):
 * `in`, Object.keys, spreads, JSON and deep equality see the same as for a value made at once.
 */
function defineLazy(s: State, i: Initializer): void {
  let d = lazyDescriptors.get(i);
  if (!d) lazyDescriptors.set(i, (d = lazyDescriptor(i.make!)));
  Object.defineProperty(s, i.key, d);
}

// One accessor pair per field, not three closures per state: the loads of the cpu's nested
// state (its absent 4 KiB pages) made them at every load, 2% of a cpu save+load (--cpu-prof).
const lazyDescriptors = new WeakMap<Initializer, PropertyDescriptor>();

/**
 * The accessor of a lazy key: a getter and setter working on `this`, so one pair serves every
 * state (a pair made per state would also take each state out of the shared hidden class). The
 * key stays an accessor, its value kept beside the state: turning it into a data property at
 * the first write (a stream that sends the cpu's AMX tiles) made V8 rebuild the state's hidden
 * class, about 10 us a load of a 142-key cpu state; the key's reads are few (its save, a user).
 */
export function lazyDescriptor(make: () => unknown): PropertyDescriptor {
  const values = new WeakMap<object, unknown>();
  return {
    get(this: object) {
      let v = values.get(this);
      if (v === undefined && !values.has(this)) values.set(this, (v = make()));
      return v;
    },
    set(this: object, v: unknown) {
      values.set(this, v);
    },
    enumerable: true,
    configurable: true,
  };
}

/** The value a field has before anything is loaded: zeros, empty variable arrays, default structs. */
export function initialValue(f: AnyField): unknown {
  switch (f.shape) {
    case 'array':
      if (f.count.from !== 'fixed') return [];
      else {
        const out = new Array<unknown>(f.count.n);
        for (let i = 0; i < out.length; i++) out[i] = f.kind.initial();
        return out;
      }
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
