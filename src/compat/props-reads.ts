/**
 * Which machine-type properties a computation read. A release's save or load of one VM depends
 * on the VM, the host and the ctx's props; the props differ between machine types, yet a save
 * reads only a few of them (the cpu's x-migrate-* switches...), so most machine types of a
 * release give the same result for a VM. Running the computation once with props that record
 * their reads tells which other props give the same result: those that agree on every key read.
 */
import type { Ctx } from '../dsl/kind';

/** The keys read and the value each had, or undefined when the props were enumerated (no sharing then). */
export type PropsReads = ReadonlyMap<PropertyKey, unknown> | undefined;

/** Runs `fn` on a copy of `ctx` whose props record the keys read. */
export function withPropsReads<T>(ctx: Ctx, fn: (ctx: Ctx) => T): { result: T; reads: PropsReads } {
  const target = ctx.props;
  if (!target) return { result: fn(ctx), reads: undefined };
  const reads = new Map<PropertyKey, unknown>();
  let enumerated = false;
  const spoil = () => {
    enumerated = true;
  };
  const props = new Proxy(target, {
    get(t, key) {
      const v: unknown = Reflect.get(t, key);
      if (!reads.has(key)) reads.set(key, v);
      return v;
    },
    has(t, key) {
      spoil();
      return Reflect.has(t, key);
    },
    ownKeys(t) {
      spoil();
      return Reflect.ownKeys(t);
    },
    getOwnPropertyDescriptor(t, key) {
      spoil();
      return Reflect.getOwnPropertyDescriptor(t, key);
    },
  });
  const result = fn({ ...ctx, props });
  return { result, reads: enumerated ? undefined : reads };
}

/** Whether `props` holds every value the reads saw (so the computation would go the same way). */
export function readsAgree(reads: PropsReads, props: Ctx['props']): boolean {
  if (!reads || !props) return false;
  for (const [key, v] of reads) if (!Object.is(Reflect.get(props, key), v)) return false;
  return true;
}
