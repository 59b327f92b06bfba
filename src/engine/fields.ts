import type { AnyField } from '../dsl/field';
import type { Ctx, State } from '../dsl/kind';
import type { AnyVMSDesc } from '../dsl/vmsd';

/** QEMU's vmstate_field_exists: a test alone decides when there is one, else the version gate. */
export function fieldExists(
  f: AnyField,
  state: Readonly<State>,
  version: number,
  ctx: Ctx,
): boolean {
  if (f.shape === 'validate') return true;
  return f.exists ? f.exists(state, version, ctx) : f.version <= version;
}

/** Whether a subsection goes on the wire (a missing needed() means always, as since QEMU 3.1). */
export function subsectionNeeded(sub: AnyVMSDesc, state: Readonly<State>, ctx: Ctx): boolean {
  return sub.needed ? sub.needed(state, ctx) : true;
}

/** A count held in another field, as a plain number (bigint counts are allowed), or undefined if unusable. */
export function countValue(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (
    typeof v === 'bigint' &&
    v >= BigInt(Number.MIN_SAFE_INTEGER) &&
    v <= BigInt(Number.MAX_SAFE_INTEGER)
  )
    return Number(v);
  return undefined;
}

/**
 * The name QEMU's vmdesc gives a field: its own, or `name[k]` when the same name occurs more than
 * once in the description (k counts the earlier occurrences), computed once per description.
 */
const descNames = new WeakMap<AnyVMSDesc, string[]>();
export function vmdescNames(d: AnyVMSDesc): string[] {
  let names = descNames.get(d);
  if (!names) {
    const total = new Map<string, number>();
    for (const f of d.fields)
      if (f.shape !== 'validate') total.set(f.name, (total.get(f.name) ?? 0) + 1);
    const seen = new Map<string, number>();
    names = d.fields.map((f) => {
      if (f.shape === 'validate' || total.get(f.name) === 1) return f.name;
      const k = seen.get(f.name) ?? 0;
      seen.set(f.name, k + 1);
      return `${f.name}[${k}]`;
    });
    descNames.set(d, names);
  }
  return names;
}
