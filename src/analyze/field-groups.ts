/**
 * A decoded struct's entries as people read them: an array of scalars (one vmdesc entry per
 * element, e.g. 4096 uint8 entries for a vmcs12 page) becomes one group, so output can print it
 * as one value list, a run-length line or a hexdump. Groups point at the decoded values; no
 * object is made per element.
 */
import type { DescBool, DescInt, DescStruct, DescValue } from '../stream/vmdesc-value';

export type ScalarValue = DescInt | DescBool;

export type FieldGroup =
  | { kind: 'one'; name: string; index?: number; value: DescValue }
  | {
      kind: 'array';
      name: string;
      type: string;
      /** Bytes per element. */
      size: number;
      offset: number;
      values: ScalarValue[];
    };

const isScalar = (v: DescValue): v is ScalarValue => v.kind === 'int' || v.kind === 'bool';

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
      const values: ScalarValue[] = new Array<ScalarValue>(j - i);
      for (let k = i; k < j; k++) values[k - i] = es[k].value as ScalarValue;
      out.push({
        kind: 'array',
        name: e.name,
        type: v.type,
        size: v.size,
        offset: v.offset,
        values,
      });
    } else out.push({ kind: 'one', name: e.name, index: e.index, value: v });
    i = j;
  }
  return out;
}

/** Raw KVM nested-state pages, shown decoded by field name by the nested view. */
export const RAW_NESTED_PAGE = /^data\.(vmx|svm)\[\d+\]\.(vmcs12|shadow_vmcs12|vmcb12)$/;
