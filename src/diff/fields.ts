import { formatInt, hexBytes } from '../analyze/qemu-format';
import { utf8FromLatin1 } from '../analyze/python-json';
import type { DescStruct, DescValue } from '../stream/vmdesc-value';
import { groupedEntries, isDescStruct } from '../stream/vmdesc-value';
import type { FieldDiff } from './types';

/** One leaf of a decoded section, under the name `--format qemu` gives it. */
export interface Leaf {
  field: string;
  index?: number;
  type: string;
  /** Comparable form: integers and text as strings, buffers as bytes. */
  value: string | Uint8Array;
}

export interface Flattened {
  leaves: Map<string, Leaf>;
  /** Subsection paths (as prefixes of their fields' paths). */
  subsections: Set<string>;
}

/** Every leaf of a section's decoded value: a vmdesc struct or a catalog's plain state. */
export function flatten(value: unknown): Flattened {
  const out: Flattened = { leaves: new Map(), subsections: new Set() };
  if (isDescStruct(value)) flattenDesc(value, '', out);
  else if (value !== undefined) flattenPlain(value, '', '', undefined, out);
  return out;
}

function flattenDesc(s: DescStruct, prefix: string, out: Flattened): void {
  const subs = new Set(s.subsections.map((x) => x.name));
  for (const [rawName, v] of groupedEntries(s)) {
    const name = subs.has(rawName) ? utf8FromLatin1(rawName) : rawName;
    const path = prefix + name;
    if (Array.isArray(v)) v.forEach((x, i) => descLeaf(x, `${path}[${i}]`, path, i, out));
    else {
      if (subs.has(rawName)) out.subsections.add(path);
      descLeaf(v, path, path, undefined, out);
    }
  }
}

function descLeaf(
  v: DescValue,
  path: string,
  field: string,
  index: number | undefined,
  out: Flattened,
): void {
  let value: string | Uint8Array;
  switch (v.kind) {
    case 'struct':
      return flattenDesc(v, path + '.', out);
    case 'int':
      value = formatInt(v.value, v.size);
      break;
    case 'bool':
      value = v.byte !== 0 ? 'true' : 'false';
      break;
    case 'bytes':
      value = v.data;
      break;
    case 'nullptr':
      value = 'nullptr';
      break;
    case 'capability':
      value = utf8FromLatin1(v.name);
      break;
  }
  out.leaves.set(path, { field, index, type: v.type, value });
}

function flattenPlain(
  v: unknown,
  path: string,
  field: string,
  index: number | undefined,
  out: Flattened,
): void {
  const leaf = (type: string, value: string | Uint8Array) =>
    out.leaves.set(path, { field, index, type, value });
  if (v instanceof Uint8Array) return void leaf('buffer', v);
  if (typeof v === 'bigint') return void leaf('int', '0x' + BigInt.asUintN(64, v).toString(16));
  if (typeof v === 'number') return void leaf('int', String(v));
  if (typeof v === 'boolean') return void leaf('bool', String(v));
  if (typeof v === 'string') return void leaf('string', v);
  if (v === null || v === undefined) return void leaf('null', 'null');
  if (Array.isArray(v)) {
    v.forEach((x, i) => flattenPlain(x, `${path}[${i}]`, path, i, out));
    return;
  }
  if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const p = path ? `${path}.${k}` : k;
      flattenPlain(x, p, p, undefined, out);
    }
    return;
  }
  leaf(typeof v, String(v));
}

/** [start, end) runs of differing bytes; a length difference is one more run at the end. */
export function byteRanges(a: Uint8Array, b: Uint8Array): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const n = Math.min(a.length, b.length);
  let start = -1;
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      ranges.push([start, i]);
      start = -1;
    }
  }
  if (start >= 0) ranges.push([start, n]);
  if (a.length !== b.length) {
    const last = ranges[ranges.length - 1];
    const end = Math.max(a.length, b.length);
    if (last && last[1] === n) last[1] = end;
    else ranges.push([n, end]);
  }
  return ranges;
}

function show(v: string | Uint8Array): string {
  return typeof v === 'string' ? v : hexBytes(v);
}

/** Bytes of the ranges only, `..` between runs: what a reader needs of a 4 KiB buffer. */
function showRanges(v: Uint8Array, ranges: Array<[number, number]>): string {
  const text = ranges.map(([s, e]) => hexBytes(v.subarray(s, e))).filter(Boolean);
  return text.length ? text.join(' .. ') : `(${v.length} bytes)`;
}

function under(path: string, prefixes: Set<string>): boolean {
  for (const p of prefixes) if (path === p || path.startsWith(p + '.')) return true;
  return false;
}

/** Field by field, in A's order then B's extra fields; fields inside a one-sided subsection are left to it. */
export function diffFields(
  a: Flattened,
  b: Flattened,
): { fields: FieldDiff[]; subsOnlyA: string[]; subsOnlyB: string[] } {
  const subsOnlyA = [...a.subsections].filter((s) => !b.subsections.has(s));
  const subsOnlyB = [...b.subsections].filter((s) => !a.subsections.has(s));
  const skipA = new Set(subsOnlyA);
  const skipB = new Set(subsOnlyB);
  const fields: FieldDiff[] = [];
  for (const [path, la] of a.leaves) {
    const lb = b.leaves.get(path);
    if (!lb) {
      if (!under(path, skipA))
        fields.push({
          path,
          field: la.field,
          index: la.index,
          change: 'only-a',
          typeA: la.type,
          a: show(la.value),
        });
      continue;
    }
    const d = leafDiff(path, la, lb);
    if (d) fields.push(d);
  }
  for (const [path, lb] of b.leaves)
    if (!a.leaves.has(path) && !under(path, skipB))
      fields.push({
        path,
        field: lb.field,
        index: lb.index,
        change: 'only-b',
        typeB: lb.type,
        b: show(lb.value),
      });
  return { fields, subsOnlyA, subsOnlyB };
}

function leafDiff(path: string, la: Leaf, lb: Leaf): FieldDiff | undefined {
  const base = { path, field: la.field, index: la.index, typeA: la.type, typeB: lb.type };
  const va = la.value;
  const vb = lb.value;
  if (va instanceof Uint8Array && vb instanceof Uint8Array) {
    const ranges = byteRanges(va, vb);
    if (ranges.length === 0) return undefined;
    return {
      ...base,
      change: 'value',
      byteRanges: ranges,
      a: showRanges(va, ranges),
      b: showRanges(vb, ranges),
    };
  }
  if (typeof va === 'string' && typeof vb === 'string') {
    if (va === vb)
      return la.type === lb.type ? undefined : { ...base, change: 'type', a: va, b: vb };
    return { ...base, change: 'value', a: va, b: vb };
  }
  return { ...base, change: 'type', a: show(va), b: show(vb) };
}
