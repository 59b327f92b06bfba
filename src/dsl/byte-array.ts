import { makeField, type Field, type FieldOptions } from './field';
import type { Kind } from './kind';
import { buffer } from './kinds';

/**
 * VMSTATE_UINT8_ARRAY(f, S, n): n raw bytes on the wire, described in the vmdesc as n uint8
 * elements ({"type": "uint8", "array_len": n, "size": 1}). The state keeps them as one
 * Uint8Array rather than n numbers, since they are usually a kernel struct or a page
 * (vmcs12, vmcb12, AMX tile data) that other code decodes as bytes.
 */
export function byteArrayKind(
  n: number,
): Kind<Uint8Array> & { readonly describeAsByteArray: true } {
  return { ...buffer(n, 'uint8'), describeAsByteArray: true };
}

export function byteArray<const K extends string>(
  key: K,
  n: number,
  opts?: FieldOptions,
): Field<K, Uint8Array> {
  return makeField(key, 'value', byteArrayKind(n), { from: 'one' }, opts);
}
