/**
 * "globalstate" (migration/global_state.c): the source's run state ("running", "paused",
 * "prelaunch"...) so the destination resumes the same way. Not a device; always sent by 7.2
 * machine types (migration property store-global-state, off only for 2.3 and older).
 */
import { f, vmsd, type State } from '../../src/dsl-kit';
import { propOn } from './machine-ctx';

/** The run state name in the 100-byte NUL-padded buffer. */
export function runstateName(s: Readonly<State>): string {
  const bytes = s.runstate as Uint8Array;
  const end = bytes.indexOf(0);
  return String.fromCharCode(...bytes.subarray(0, end < 0 ? bytes.length : end));
}

export const globalState = vmsd({
  name: 'globalstate',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s, ctx) => {
    if (propOn(ctx, 'migration.store-global-state', true)) return true;
    const name = runstateName(s);
    return name !== 'running' && name !== 'paused';
  },
  fields: [f.u32('size'), f.buffer('runstate', 100)],
});

/**
 * After 7.2 (10.0 has it): the run state buffer shrank to 32 bytes to make room for whether the
 * VM was suspended (has_vm_was_suspended is set by pre_save on every save), the rest unused.
 */
export const globalStateSuspended = vmsd({
  name: 'globalstate',
  version_id: 1,
  minimum_version_id: 1,
  needed: globalState.needed,
  fields: [
    f.u32('size'),
    f.buffer('runstate', 32),
    f.u8('has_vm_was_suspended'),
    f.u8('vm_was_suspended'),
    f.buffer('unused', 66),
  ],
});
