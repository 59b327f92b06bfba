/**
 * Dump formats differ between releases: QEMU 10.0's -dump-vmstate gives an array's element size
 * and `num`, 7.2's and 5.2's the element size alone. Before two sets are compared, a field of a
 * num-less dump takes its element count from the field of the same name (the n-th of that name)
 * at the same place in the other set, so an array is not taken for one element; a field with no
 * such counterpart keeps an unknown count (only its element size is compared).
 */
import type { CheckDesc, CheckField, CheckSet } from './model';

/** Both sets with the num-less side's counts filled in from the other where names match. */
export function alignDumpFormats(a: CheckSet, b: CheckSet): [CheckSet, CheckSet] {
  return [fillSet(a, b), fillSet(b, a)];
}

function hasUnknown(d: CheckDesc): boolean {
  return (
    d.fields.some((f) => f.numUnknown || (f.struct !== undefined && hasUnknown(f.struct))) ||
    d.subsections.some(hasUnknown)
  );
}

function fillSet(set: CheckSet, other: CheckSet): CheckSet {
  if (![...set.entries.values()].some(hasUnknown)) return set;
  const entries = new Map<string, CheckDesc>();
  for (const [key, d] of set.entries) {
    const o = other.entries.get(key);
    entries.set(key, o ? fillDesc(d, o) : d);
  }
  return { ...set, entries };
}

function fillDesc(d: CheckDesc, o: CheckDesc): CheckDesc {
  const seen = new Map<string, number>();
  const fields = d.fields.map((f): CheckField => {
    const n = seen.get(f.name) ?? 0;
    seen.set(f.name, n + 1);
    const g = o.fields.filter((x) => x.name === f.name)[n];
    if (!g || f.unused) return f;
    const struct = f.struct && g.struct ? fillDesc(f.struct, g.struct) : f.struct;
    if (!f.numUnknown || g.numUnknown) return struct === f.struct ? f : { ...f, struct };
    return { ...f, struct, num: g.num, numUnknown: false };
  });
  const subsections = d.subsections.map((s) => {
    const t = o.subsections.find((x) => x.name === s.name);
    return t ? fillDesc(s, t) : s;
  });
  return { ...d, fields, subsections };
}
