import { DescriptionError } from '../errors';
import { holdsState, type AnyField, type Field } from './field';
import type { Ctx, State } from './kind';

/**
 * A VMStateDescription, as QEMU declares device state: a value whose state type StateOf<> infers.
 * Subsections share the parent's state object (QEMU passes them the same opaque), so their
 * fields are keys of the same state.
 */
export interface VMSD<
  N extends string = string,
  Fs extends readonly AnyField[] = readonly AnyField[],
  Subs extends readonly AnyVMSDesc[] = readonly AnyVMSDesc[],
> {
  readonly name: N;
  readonly version_id: number;
  readonly minimum_version_id: number;
  readonly fields: Fs;
  readonly subsections: Subs;
  /** Subsections: sent only when this holds (QEMU's needed()); top level: the section is skipped when false. */
  readonly needed?: (state: Readonly<State>, ctx: Ctx) => boolean;
  /** May return a replacement state to write (QEMU's pre_save mutates its opaque; ours stays pure). Throw to refuse. */
  readonly pre_save?: (state: Readonly<State>, ctx: Ctx) => State | void;
  readonly post_save?: (state: Readonly<State>, ctx: Ctx) => void;
  /** Runs after the version checks, before the first field; throw to refuse the load. */
  readonly pre_load?: (state: State, ctx: Ctx) => void;
  /** Runs after the fields and all subsections, with the stream's version; throw to refuse the load. */
  readonly post_load?: (state: State, version: number, ctx: Ctx) => void;
  /** Higher is saved earlier (QEMU's MigrationPriority). */
  readonly priority?: number;
  /** QEMU refuses to migrate a VM with such a device. */
  readonly unmigratable?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyVMSDesc = VMSD<string, readonly AnyField[], readonly any[]>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (
  x: infer I,
) => void
  ? I
  : never;

type FieldsState<Fs extends readonly AnyField[]> = {
  -readonly [F in Fs[number] as F extends Field<infer K, unknown> ? K : never]: F['_value'];
};
type IsAny<T> = 0 extends 1 & T ? true : false;
type SubsState<Subs extends readonly AnyVMSDesc[]> = [Subs[number]] extends [never]
  ? unknown
  : IsAny<Subs[number]> extends true
    ? unknown // a subsection list typed loosely (e.g. inferred from context): contributes no keys
    : UnionToIntersection<
        Subs[number] extends infer S ? (S extends AnyVMSDesc ? StateOf<S> : never) : never
      >;

/** The TypeScript type of a description's state: one source of truth, no interface written beside it. */
export type StateOf<D> =
  D extends VMSD<string, infer Fs, infer Subs>
    ? Simplify<FieldsState<Fs> & SubsState<Subs>>
    : never;

/**
 * The hooks as a description's author writes them: they see the state type the fields declare,
 * so `needed: (s) => s.armed` compiles and a misspelt key does not. (List `fields` before the
 * hooks: TypeScript infers the fields first only in that order.)
 */
export interface TypedHooks<S> {
  readonly needed?: (state: Readonly<S>, ctx: Ctx) => boolean;
  readonly pre_save?: (state: Readonly<S>, ctx: Ctx) => S | State | void;
  readonly post_save?: (state: Readonly<S>, ctx: Ctx) => void;
  readonly pre_load?: (state: S, ctx: Ctx) => void;
  readonly post_load?: (state: S, version: number, ctx: Ctx) => void;
}

type HookName = keyof TypedHooks<unknown>;

export interface VMSDSpec<
  N extends string,
  Fs extends readonly AnyField[],
  Subs extends readonly AnyVMSDesc[],
>
  extends
    Omit<VMSD<N, Fs, Subs>, 'minimum_version_id' | 'subsections' | 'fields' | HookName>,
    TypedHooks<StateOf<VMSD<N, Fs, Subs>>> {
  readonly minimum_version_id?: number;
  readonly fields: Fs;
  readonly subsections?: Subs;
}

/** Declares a description; checks what QEMU's vmstate_check checks (and a little more) at once. */
export function vmsd<
  const N extends string,
  const Fs extends readonly AnyField[],
  const Subs extends readonly AnyVMSDesc[] = [],
>(spec: VMSDSpec<N, Fs, Subs>): VMSD<N, Fs, Subs> {
  // The typed hooks are the untyped ones at run time: the engine hands them this state.
  const d: VMSD<N, Fs, Subs> = {
    ...(spec as unknown as VMSD<N, Fs, Subs>),
    minimum_version_id: spec.minimum_version_id ?? 0,
    subsections: (spec.subsections ?? []) as unknown as Subs,
  };
  checkDescription(d);
  return Object.freeze(d);
}

function checkDescription(d: AnyVMSDesc): void {
  if (!d.name || d.name.length > 255)
    throw new DescriptionError(`description name must be 1..255 bytes: '${d.name}'`);
  if (d.minimum_version_id > d.version_id)
    throw new DescriptionError(
      `${d.name}: minimum_version_id ${d.minimum_version_id} > version_id ${d.version_id}`,
    );
  const keys = new Set<string>();
  const seenBefore = new Set<string>();
  for (const f of d.fields) {
    if (holdsState(f.shape)) {
      if (keys.has(f.key))
        throw new DescriptionError(
          `${d.name}: field key '${f.key}' appears twice (give one an 'as' name)`,
        );
      keys.add(f.key);
    }
    if (f.count.from === 'field') {
      if (!seenBefore.has(f.count.field))
        throw new DescriptionError(
          `${d.name}: '${f.key}' takes its length from '${f.count.field}', which must be an earlier field`,
        );
      if (!(f.count.max >= 0))
        throw new DescriptionError(`${d.name}: '${f.key}' needs a maximum length`);
    }
    seenBefore.add(f.key);
  }
  const subNames = new Set<string>();
  for (const s of d.subsections as readonly AnyVMSDesc[]) {
    if (!s.name.startsWith(d.name))
      throw new DescriptionError(
        `${d.name}: subsection '${s.name}' must start with its parent's name (QEMU's loader relies on it)`,
      );
    if (subNames.has(s.name))
      throw new DescriptionError(`${d.name}: subsection '${s.name}' appears twice`);
    subNames.add(s.name);
  }
}
