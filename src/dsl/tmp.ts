import { makeField, type Field, type FieldOptions } from './field';
import type { Kind, State } from './kind';
import { struct as structKind } from './kinds';
import type { AnyVMSDesc, StateOf } from './vmsd';

/**
 * VMSTATE_WITH_TMP: QEMU copies part of the parent into a temporary struct (pre_save), runs a
 * description over the temporary, and copies back (post_load). On the wire that is exactly the
 * temporary's fields, inline, with no version. We keep the temporary's values themselves as the
 * state (under the key QEMU names the field: "tmp"), so the state is what travels.
 */
export function tmpKind<D extends AnyVMSDesc>(
  desc: D,
): Kind<State> & { readonly desc: D; readonly describeInline: true } {
  return { ...structKind(desc, 'tmp'), describeInline: true };
}

/** One VMSTATE_WITH_TMP field; QEMU names every such field "tmp". */
export function tmp<D extends AnyVMSDesc, const K extends string = 'tmp'>(
  desc: D,
  opts?: FieldOptions & { key?: K },
): Field<K, StateOf<D>> {
  const key = (opts?.key ?? 'tmp') as K;
  return makeField(
    key,
    'value',
    tmpKind(desc),
    { from: 'one' },
    { ...opts, as: opts?.as ?? 'tmp' },
  );
}
