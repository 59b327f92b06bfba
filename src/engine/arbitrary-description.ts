import * as fc from 'fast-check';
import { f, k, vmsd, type AnyField, type AnyVMSDesc, type Kind, type State } from '../dsl';
import { outline } from './describe-text';

/**
 * Random descriptions for property tests of the engine itself: field trees with every shape
 * (scalars, buffers, fixed and variable arrays, structs and struct arrays, unused bytes,
 * validate checks, version and test gates) and nested subsections with needed() conditions.
 * Names follow QEMU's rules so the prefix-based subsection loader is exercised, not confused.
 *
 * A description is built from a plan (plain data drawn with fast-check combinators), so a
 * failing description shrinks like any fast-check value: fewer fields, simpler kinds, no gates,
 * fewer subsections.
 */
export function arbitraryDescription(
  opts: { maxDepth?: number; maxFields?: number } = {},
): fc.Arbitrary<AnyVMSDesc> {
  const maxDepth = opts.maxDepth ?? 2;
  const maxFields = opts.maxFields ?? 6;
  return descPlan(maxDepth, maxFields).map((plan) => {
    const desc = buildDescription(plan);
    // Counterexamples print as an outline instead of a dump of closures.
    return Object.freeze({
      ...desc,
      [fc.toStringMethod]: () => `description:\n${outline(desc)}`,
    });
  });
}

/** Whether a field is on the wire: always, from a version (relative to its description's), or while an earlier bool is true. */
type GatePlan =
  | { readonly t: 'always' }
  | { readonly t: 'version'; readonly v: number }
  | { readonly t: 'flag'; readonly pick: number };

type FieldPlan =
  | { readonly t: 'scalar'; readonly kind: number; readonly gate: GatePlan }
  | { readonly t: 'buffer'; readonly size: number; readonly gate: GatePlan }
  | { readonly t: 'array'; readonly kind: number; readonly n: number; readonly gate: GatePlan }
  | {
      readonly t: 'varray';
      readonly countKind: number;
      readonly max: number;
      /** An element kind, or undefined for a vbuffer. */
      readonly elem: number | undefined;
      readonly gate: GatePlan;
    }
  | {
      readonly t: 'struct';
      readonly desc: DescPlan;
      /** Elements of a struct array, or undefined for one struct. */
      readonly n: number | undefined;
      readonly gate: GatePlan;
    }
  | { readonly t: 'unused'; readonly size: number; readonly gate: GatePlan }
  | { readonly t: 'validate' }
  | { readonly t: 'equal'; readonly kind: number };

interface DescPlan {
  readonly version: number;
  /** minimum_version_id, capped at the version. */
  readonly min: number;
  readonly fields: readonly FieldPlan[];
  readonly subs: readonly SubPlan[];
}

interface SubPlan extends DescPlan {
  /** needed() tests one of the bools it sees (an index into them), or undefined: always needed. */
  readonly flag: number | undefined;
}

const gatePlan: fc.Arbitrary<GatePlan> = fc.oneof(
  { weight: 14, arbitrary: fc.constant({ t: 'always' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant('version' as const), v: fc.integer({ min: 1, max: 5 }) }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('flag' as const), pick: fc.nat(7) }) },
);

function fieldPlan(depth: number, maxFields: number): fc.Arbitrary<FieldPlan> {
  const scalar = fc.nat(SCALARS.length - 1);
  const alternatives: fc.WeightedArbitrary<FieldPlan>[] = [
    {
      weight: 35,
      arbitrary: fc.record({ t: fc.constant('scalar' as const), kind: scalar, gate: gatePlan }),
    },
    {
      weight: 10,
      arbitrary: fc.record({
        t: fc.constant('buffer' as const),
        size: fc.integer({ min: 1, max: 16 }),
        gate: gatePlan,
      }),
    },
    {
      weight: 10,
      arbitrary: fc.record({
        t: fc.constant('array' as const),
        kind: scalar,
        n: fc.integer({ min: 1, max: 4 }),
        gate: gatePlan,
      }),
    },
    {
      weight: 10,
      arbitrary: fc.record({
        t: fc.constant('varray' as const),
        countKind: fc.nat(COUNT_KINDS.length - 1),
        max: fc.nat(6),
        elem: fc.option(scalar, { nil: undefined }),
        gate: gatePlan,
      }),
    },
    {
      weight: 10,
      arbitrary: fc.record({
        t: fc.constant('unused' as const),
        size: fc.integer({ min: 1, max: 4 }),
        gate: gatePlan,
      }),
    },
    { weight: 5, arbitrary: fc.constant({ t: 'validate' as const }) },
    {
      weight: 10,
      arbitrary: fc.record({
        t: fc.constant('equal' as const),
        kind: fc.nat(EQUAL_KINDS.length - 1),
      }),
    },
  ];
  if (depth > 0)
    alternatives.push({
      weight: 10,
      arbitrary: fc.record({
        t: fc.constant('struct' as const),
        desc: descPlan(depth - 1, maxFields),
        n: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        gate: gatePlan,
      }),
    });
  return fc.oneof(...alternatives);
}

function descPlan(depth: number, maxFields: number): fc.Arbitrary<DescPlan> {
  return fc.record({
    version: fc.integer({ min: 1, max: 4 }),
    min: fc.nat(4),
    fields: fc.array(fieldPlan(depth, maxFields), { maxLength: maxFields }),
    subs: depth > 0 ? subPlans(depth, maxFields) : fc.constant([]),
  });
}

function subPlans(depth: number, maxFields: number): fc.Arbitrary<SubPlan[]> {
  const sub: fc.Arbitrary<SubPlan> = fc.record({
    version: fc.integer({ min: 1, max: 3 }),
    min: fc.nat(3),
    fields: fc.array(fieldPlan(depth - 1, maxFields), { maxLength: maxFields }),
    subs: depth - 1 > 0 ? subPlans(depth - 1, maxFields) : fc.constant([]),
    flag: fc.option(fc.nat(7), { nil: undefined, freq: 3 }),
  });
  return fc.array(sub, { maxLength: 2 });
}

const SCALARS: readonly Kind<unknown>[] = [
  k.u8,
  k.u16,
  k.u32,
  k.u64,
  k.i8,
  k.i16,
  k.i32,
  k.i64,
  k.bool,
] as Kind<unknown>[];

const COUNT_KINDS = [k.u8, k.u16, k.u32, k.i32] as Kind<unknown>[];
const EQUAL_KINDS = [k.u8, k.u16, k.u32, k.u64] as Kind<unknown>[];

/** The description a plan stands for: keys and struct names numbered in order, gates resolved. */
function buildDescription(plan: DescPlan): AnyVMSDesc {
  let keyCounter = 0;
  let structCounter = 0;
  const newKey = () => `f${keyCounter++}`;

  const makeFields = (
    plans: readonly FieldPlan[],
    version: number,
    inherited: string[],
  ): { fields: AnyField[]; bools: string[] } => {
    const fields: AnyField[] = [];
    const bools = [...inherited];
    plans.forEach((p, i) => {
      const gate = (
        g: GatePlan,
      ): { version?: number; exists?: (s: Readonly<State>) => boolean } => {
        if (g.t === 'version') return { version: Math.min(g.v, version + 1) };
        if (g.t === 'flag' && bools.length > 0) {
          const flag = bools[g.pick % bools.length];
          return { exists: (s) => s[flag] === true };
        }
        return {};
      };
      switch (p.t) {
        case 'scalar': {
          const kind = SCALARS[p.kind];
          const key = newKey();
          fields.push(f.field(key, kind, gate(p.gate)));
          if (kind === (k.bool as Kind<unknown>)) bools.push(key);
          return;
        }
        case 'buffer':
          fields.push(f.buffer(newKey(), p.size, gate(p.gate)));
          return;
        case 'array':
          fields.push(f.array(newKey(), SCALARS[p.kind], p.n, gate(p.gate)));
          return;
        case 'varray': {
          // The count field is never gated: the array's length must always travel before it.
          const countKey = newKey();
          fields.push(f.field(countKey, COUNT_KINDS[p.countKind]));
          const g = gate(p.gate);
          if (p.elem !== undefined)
            fields.push(f.varray(newKey(), SCALARS[p.elem], { count: countKey, max: p.max }, g));
          else fields.push(f.vbuffer(newKey(), { size: countKey, max: p.max }, g));
          return;
        }
        case 'struct': {
          const nested = makeDescription(`st${structCounter++}`, p.desc, false);
          if (p.n === undefined) fields.push(f.struct(newKey(), nested, gate(p.gate)));
          else fields.push(f.structArray(newKey(), nested, p.n, gate(p.gate)));
          return;
        }
        case 'unused':
          fields.push(f.unused(p.size, gate(p.gate)));
          return;
        case 'validate':
          fields.push(f.validate(`check${i}`, () => true, 'always holds'));
          return;
        case 'equal':
          fields.push(f.equal(newKey(), EQUAL_KINDS[p.kind]));
          return;
      }
    });
    return { fields, bools };
  };

  const makeSubsections = (
    parent: string,
    plans: readonly SubPlan[],
    bools: string[],
  ): AnyVMSDesc[] =>
    plans.map((p, i) => {
      const name = `${parent}/s${i}`;
      const { fields, bools: own } = makeFields(p.fields, p.version, bools);
      const flag = p.flag !== undefined && own.length > 0 ? own[p.flag % own.length] : undefined;
      return vmsd({
        name,
        version_id: p.version,
        minimum_version_id: Math.min(p.min, p.version),
        fields,
        subsections: makeSubsections(name, p.subs, own),
        needed: flag === undefined ? undefined : (s) => s[flag] === true,
      });
    });

  const makeDescription = (name: string, p: DescPlan, top: boolean): AnyVMSDesc => {
    const { fields, bools } = makeFields(p.fields, p.version, []);
    const subsections = makeSubsections(name, p.subs, bools);
    if (subsections.length > 0 && !top) {
      // QEMU cannot tell where one struct's subsections end and the next array element begins
      // when that element may itself start with 0x05: lead with a bool (written 0 or 1) as real
      // devices do, so the generated descriptions are ones QEMU could load.
      fields.unshift(f.bool(newKey()));
    }
    return vmsd({
      name,
      version_id: p.version,
      minimum_version_id: Math.min(p.min, p.version),
      fields,
      subsections,
    });
  };

  return makeDescription('dev', plan, true);
}
