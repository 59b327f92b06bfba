/**
 * A decoded struct's entries as people read them: an array of scalars (one vmdesc entry per
 * element, e.g. 4096 uint8 entries for a vmcs12 page) becomes one group, so output can print it
 * as one value list, a run-length line or a hexdump. A group holds its elements' bytes as they
 * are on the wire; no object is made per element. A struct whose entries were never read
 * (vmdesc-codec.ts's lazy bodies) is grouped straight from its bytes by its plan, so printing a
 * stream never builds its field tree.
 */
import { ByteReader } from '../bytes/reader';
import { buildValue, lazyBodyOf, lazyPart, type LazyBody } from '../stream/vmdesc-codec';
import { FieldKind, skipStruct, type PlanField, type VmdescPlan } from '../stream/vmdesc-plan';
import type { DescStruct, DescSubsection, DescValue } from '../stream/vmdesc-value';

export interface ScalarGroup {
  kind: 'array';
  name: string;
  type: string;
  /** Bytes per element. */
  size: number;
  offset: number;
  count: number;
  /** 'bool' elements are one byte each (true when not zero); 'int' ones big-endian integers. */
  scalar: 'int' | 'bool';
  signed: boolean;
  /** The elements' bytes, count * size of them. */
  data: Uint8Array;
}

export type FieldGroup =
  { kind: 'one'; name: string; index?: number; value: DescValue } | ScalarGroup;

export interface StructParts {
  groups: FieldGroup[];
  subsections: readonly DescSubsection[];
}

/** A struct's field groups and subsections; a lazy struct stays lazy (its nested structs too). */
export function structParts(s: DescStruct): StructParts {
  const lazy = lazyBodyOf(s);
  if (lazy) return lazyParts(lazy);
  return { groups: fieldGroups(s), subsections: s.subsections };
}

/** Element k of a scalar group: a number up to 6 bytes (exact), a bigint above. */
export function elementValue(g: ScalarGroup, k: number): number | bigint {
  const b = g.data;
  const size = g.size;
  const p = k * size;
  if (size <= 6) {
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + b[p + i];
    if (g.signed && b[p] & 0x80) n -= 2 ** (size * 8);
    return n;
  }
  let v = 0n;
  for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(b[p + i]);
  return g.signed ? BigInt.asIntN(size * 8, v) : v;
}

const isScalar = (v: DescValue): boolean => v.kind === 'int' || v.kind === 'bool';

/** Consecutive entries of one name, indexes 0, 1, 2..., one scalar type, back to back on the wire. */
export function fieldGroups(s: DescStruct): FieldGroup[] {
  const out: FieldGroup[] = [];
  const es = s.entries;
  let i = 0;
  while (i < es.length) {
    const e = es[i];
    const v = e.value;
    let j = i + 1;
    if (e.index === 0 && isScalar(v)) {
      while (j < es.length) {
        const n = es[j];
        const w = n.value;
        if (
          n.name !== e.name ||
          n.index !== j - i ||
          w.kind !== v.kind ||
          w.type !== v.type ||
          w.size !== v.size ||
          w.offset !== v.offset + (j - i) * v.size
        )
          break;
        j++;
      }
    }
    if (j - i > 1) {
      const data = new Uint8Array((j - i) * v.size);
      for (let k = i; k < j; k++) {
        const x = es[k].value;
        const at = (k - i) * v.size;
        if (x.kind === 'bool') data[at] = x.byte;
        else if (x.kind === 'int') {
          let u = BigInt.asUintN(x.size * 8, x.value);
          for (let b = x.size - 1; b >= 0; b--) {
            data[at + b] = Number(u & 0xffn);
            u >>= 8n;
          }
        }
      }
      out.push({
        kind: 'array',
        name: e.name,
        type: v.type,
        size: v.size,
        offset: v.offset,
        count: j - i,
        scalar: v.kind === 'bool' ? 'bool' : 'int',
        signed: v.kind === 'int' && v.signed,
        data,
      });
    } else out.push({ kind: 'one', name: e.name, index: e.index, value: v });
    i = j;
  }
  return out;
}

/** The groups fieldGroups would make of the entries the plan reads from these bytes. */
function lazyParts(body: LazyBody): StructParts {
  return partsAt(new ByteReader(body.bytes, body.base), body.plan, body.path);
}

function partsAt(r: ByteReader, plan: VmdescPlan, path: string): StructParts {
  const b = r.bytes;
  const groups: FieldGroup[] = [];
  // The run of scalar elements being grouped: its first field, start and element count.
  let run: PlanField | undefined;
  let runPos = 0;
  let runCount = 0;
  const close = () => {
    if (!run) return;
    if (runCount > 1)
      groups.push({
        kind: 'array',
        name: run.field.name,
        type: run.field.type,
        size: run.size,
        offset: r.base + runPos,
        count: runCount,
        scalar: run.kind === FieldKind.Bool ? 'bool' : 'int',
        signed: run.signed,
        data: b.subarray(runPos, runPos + runCount * run.size),
      });
    else {
      const at = r.pos;
      r.pos = runPos;
      groups.push({ kind: 'one', name: run.field.name, index: 0, value: buildValue(r, run, path) });
      r.pos = at;
    }
    run = undefined;
  };
  for (const pf of plan.fields) {
    const f = pf.field;
    const arrayed = f.array_len !== undefined;
    const scalar = pf.kind === FieldKind.Int || pf.kind === FieldKind.Bool;
    for (let i = 0; i < pf.count; i++) {
      const index = arrayed ? i : f.index;
      if (
        run &&
        scalar &&
        index === runCount &&
        f.name === run.field.name &&
        pf.kind === run.kind &&
        f.type === run.field.type &&
        pf.size === run.size
      ) {
        if (run === pf && arrayed) {
          // The rest of this array's elements extend the run too (indexes i, i+1, ...).
          const rest = pf.count - i;
          runCount += rest;
          r.pos += rest * pf.size;
          break;
        }
        runCount++;
        r.pos += pf.size;
        continue;
      }
      close();
      if (scalar && index === 0) {
        run = pf;
        runPos = r.pos;
        runCount = 1;
        r.pos += pf.size;
        continue;
      }
      let value: DescValue;
      if (pf.kind === FieldKind.Struct) {
        const start = r.pos;
        skipStruct(r, pf.struct!, { n: 0 });
        value = lazyPart(pf.struct!, b.subarray(start, r.pos), r.base + start, path);
      } else value = buildValue(r, pf, path);
      groups.push(
        index !== undefined
          ? { kind: 'one', name: f.name, index, value }
          : { kind: 'one', name: f.name, value },
      );
    }
  }
  close();
  const subsections: DescSubsection[] = [];
  for (const sub of plan.subsections) {
    const offset = r.offset;
    r.skip(1);
    const name = r.countedString();
    const version = r.u32();
    const start = r.pos;
    skipStruct(r, sub, { n: 0 });
    subsections.push({
      name,
      version,
      offset,
      body: lazyPart(sub, b.subarray(start, r.pos), r.base + start, path),
    });
  }
  return { groups, subsections };
}

/** Raw KVM nested-state pages, shown decoded by field name by the nested view. */
export const RAW_NESTED_PAGE = /^data\.(vmx|svm)\[\d+\]\.(vmcs12|shadow_vmcs12|vmcb12)$/;
