import type { Ctx, Kind, State } from './kind';

/** Decides whether a field is on the wire: QEMU's field_exists(opaque, version), plus the context. */
export type ExistsTest = (state: Readonly<State>, version: number, ctx: Ctx) => boolean;

/**
 * What a field is on the wire: one value, an array, a counted byte buffer, padding, or a check
 * that sends nothing. Every switch on it ends in unreachableShape, so a new shape is a compile
 * error wherever it is not handled yet.
 */
export type FieldShape = 'value' | 'array' | 'vbuffer' | 'unused' | 'validate';

/** The `never` check closing every switch on a field's shape. */
export function unreachableShape(shape: never): never {
  throw new Error(`unknown field shape ${String(shape)}`);
}

/** Whether a field of this shape keeps a value in the state (padding and checks do not). */
export function holdsState(shape: FieldShape): boolean {
  switch (shape) {
    case 'value':
    case 'array':
    case 'vbuffer':
      return true;
    case 'unused':
    case 'validate':
      return false;
    default:
      return unreachableShape(shape);
  }
}

/** How many elements a field has, and where that number comes from. */
export type Count =
  | { readonly from: 'one' }
  | { readonly from: 'fixed'; readonly n: number }
  /** VMSTATE_VARRAY_* / VMSTATE_VBUFFER*: the count is the value of an earlier field of the same state. */
  | { readonly from: 'field'; readonly field: string; readonly max: number };

/**
 * One entry of a description's field list. `key` is where the value lives in the state object,
 * `name` is what QEMU calls it (vmdesc, -dump-vmstate, `--set`); they differ only where QEMU
 * repeats a name within one description. `T` is the value's type, inferred by StateOf.
 */
export interface Field<K extends string, T> {
  readonly key: K;
  readonly name: string;
  readonly shape: FieldShape;
  readonly kind: Kind<unknown>;
  readonly count: Count;
  /** Present only in streams whose version is at least this (QEMU's _V macros). */
  readonly version: number;
  /** Present only when this holds, on both sides (QEMU's _TEST macros); overrides `version`. */
  readonly exists?: ExistsTest;
  /** For validate pseudo-fields: the check and what to say when it fails. */
  readonly validate?: {
    readonly test: (state: Readonly<State>, version: number, ctx: Ctx) => boolean;
    readonly message: string;
  };
  /** Phantom: the value type, for inference only (never set at run time). */
  readonly _value: T;
}

export type AnyField = Field<string, unknown>;

export interface FieldOptions {
  /** Present only in streams of at least this version. */
  readonly version?: number;
  /** Present only when this holds (both sides must agree: depend on earlier fields, the version or ctx). */
  readonly exists?: ExistsTest;
  /** QEMU's name for the field when the state key must differ from it (a name repeated in one VMSD). */
  readonly as?: string;
}

export function makeField<K extends string, T>(
  key: K,
  shape: Field<K, T>['shape'],
  kind: Kind<unknown>,
  count: Count,
  opts: FieldOptions = {},
  validate?: Field<K, T>['validate'],
): Field<K, T> {
  return {
    key,
    name: opts.as ?? key,
    shape,
    kind,
    count,
    version: opts.version ?? 0,
    exists: opts.exists,
    validate,
    _value: undefined as unknown as T,
  };
}
