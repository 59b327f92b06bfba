/**
 * Design alternative "blob" (the shape of the first 2018 QEMU patch for nested state): the
 * kernel's whole struct kvm_nested_state, exactly the `size` bytes KVM_GET_NESTED_STATE
 * returned (little-endian, kernel layout), as one opaque buffer in one `cpu/nested_state`
 * subsection. Whatever the kernel adds (the preemption-timer deadline, SVM's gpat) rides
 * along unseen: no field is visible to VMState, no part can be left out for an older
 * destination, and the receiving kernel alone decides whether it understands the bytes.
 *
 * The state is the same as in the accepted design (env.nested_state as a NestedState record);
 * pre_save flattens it into the blob, post_load parses the blob back.
 */
import { f, vmsd, type AnyVMSDesc, type State } from '../../src/dsl';
import {
  buildNestedState,
  parseNestedState,
  VMX_SIZE_WITH_SHADOW,
  type NestedState,
} from '../x86/kvm';
import {
  checkNestedBufferAllocated,
  checkReceivedNestedState,
  nestedStateNeeded,
  type NestedDesign,
} from '../x86/nested';

export const BLOB_LENGTH_KEY = 'env.nested_state_len';
export const BLOB_KEY = 'env.nested_state_blob';

export const blobNestedState = vmsd({
  name: 'cpu/nested_state',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s, ctx) => nestedStateNeeded(s, ctx, true),
  pre_load: (_s, ctx) => checkNestedBufferAllocated(ctx, true),
  // Its state holds the parent's env.nested_state too (one opaque): typed as the whole state.
  pre_save: (s: Readonly<State>) => {
    const blob = buildNestedState(s['env.nested_state'] as NestedState);
    return { ...s, [BLOB_LENGTH_KEY]: blob.length, [BLOB_KEY]: blob };
  },
  post_load: (s: State, _v, ctx) => {
    s['env.nested_state'] = { ...parseNestedState(s[BLOB_KEY] as Uint8Array) } as State;
    checkReceivedNestedState(s, ctx);
  },
  fields: [
    f.u32(BLOB_LENGTH_KEY),
    f.vbuffer(BLOB_KEY, { size: BLOB_LENGTH_KEY, max: VMX_SIZE_WITH_SHADOW }),
  ],
});

export const blobDesign: NestedDesign = {
  name: 'blob',
  carriesSvm: true,
  carriesPreemptionTimer: () => true,
  build: (): AnyVMSDesc => blobNestedState,
};
