/**
 * Compile-time checks that a state's type is inferred from its description (checked by
 * tests/typecheck.test.ts, which runs the TypeScript compiler over the project).
 */
import { f, k, vmsd, type StateOf } from '../../src';

const drive = vmsd({ name: 'fdrive', version_id: 1, fields: [f.u8('head'), f.u8('track')] });
// eslint-disable-next-line @typescript-eslint/no-unused-vars
const dev = vmsd({
  name: 'dev',
  version_id: 2,
  fields: [
    f.u32('count'),
    f.u64('tsc'),
    f.bool('on'),
    f.buffer('page', 16),
    f.array('regs', k.u64, 4),
    f.struct('drive', drive),
    f.structArray('drives', drive, 2),
    f.unused(4),
    f.validate('sane', () => true),
  ],
  subsections: [
    vmsd({
      name: 'dev/extra',
      version_id: 1,
      fields: [f.i16('extra')],
      needed: (s) => s.extra !== 0,
    }),
  ],
});

type Dev = StateOf<typeof dev>;
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(_?: T) => undefined;

assertType<
  Equals<
    Dev,
    {
      count: number;
      tsc: bigint;
      on: boolean;
      page: Uint8Array;
      regs: bigint[];
      drive: { head: number; track: number };
      drives: { head: number; track: number }[];
      extra: number;
    }
  >
>();

export const ok: Dev = {
  count: 1,
  tsc: 2n,
  on: true,
  page: new Uint8Array(16),
  regs: [1n, 2n, 3n, 4n],
  drive: { head: 0, track: 0 },
  drives: [],
  extra: 0,
};

// @ts-expect-error a 64-bit field is a bigint, not a number
export const wrongTsc: Dev = { ...ok, tsc: 2 };
// @ts-expect-error subsection fields are part of the state
export const missingExtra: Omit<Dev, 'extra'> & { extra?: never } = ok;

// Hooks see the state the fields declare: a known key compiles, a misspelt one does not.
export const armed = vmsd({
  name: 'timer',
  version_id: 1,
  fields: [f.bool('armed'), f.u64('expiry')],
  needed: (s) => s.armed,
  pre_save: (s) => ({ ...s, expiry: s.armed ? s.expiry : 0n }),
  post_load: (s) => {
    if (!s.armed) s.expiry = 0n;
  },
});
export const misspelt = vmsd({
  name: 'timer',
  version_id: 1,
  fields: [f.bool('armed')],
  // @ts-expect-error 'armedd' is not a field of this description
  needed: (s) => s.armedd === true,
});
