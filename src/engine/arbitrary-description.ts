import * as fc from 'fast-check';
import { f, k, vmsd, type AnyField, type AnyVMSDesc, type Kind, type State } from '../dsl';
import { outline } from './describe-text';

/**
 * Random descriptions for property tests of the engine itself: field trees with every shape
 * (scalars, buffers, fixed and variable arrays, structs and struct arrays, unused bytes,
 * validate checks, version and test gates) and nested subsections with needed() conditions.
 * Names follow QEMU's rules so the prefix-based subsection loader is exercised, not confused.
 */
export function arbitraryDescription(
  opts: { maxDepth?: number; maxFields?: number } = {},
): fc.Arbitrary<AnyVMSDesc> {
  const maxDepth = opts.maxDepth ?? 2;
  const maxFields = opts.maxFields ?? 6;
  return fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((seed) => {
    const desc = buildDescription(new Rng(seed), maxDepth, maxFields);
    // Counterexamples print as an outline instead of a dump of closures.
    return Object.freeze({
      ...desc,
      [fc.toStringMethod]: () => `description #${seed}:\n${outline(desc)}`,
    });
  });
}

/** A tiny deterministic generator: the description is a function of one seed, so fast-check shrinks the seed. */
class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (Math.imul(this.s ^ (this.s >>> 15), 0x2c1b3c6d) + 0x297a2d39) | 0;
    this.s ^= this.s >>> 12;
    return (this.s >>> 0) / 2 ** 32;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
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

function buildDescription(rng: Rng, maxDepth: number, maxFields: number): AnyVMSDesc {
  let keyCounter = 0;
  let structCounter = 0;
  const newKey = () => `f${keyCounter++}`;

  const makeFields = (
    depth: number,
    version: number,
    inherited: string[],
  ): { fields: AnyField[]; bools: string[] } => {
    const fields: AnyField[] = [];
    const bools = [...inherited];
    const n = rng.int(0, maxFields);
    for (let i = 0; i < n; i++) {
      const gate = (): { version?: number; exists?: (s: Readonly<State>) => boolean } => {
        const roll = rng.next();
        if (roll < 0.15) return { version: rng.int(1, version + 1) };
        if (roll < 0.3 && bools.length > 0) {
          const flag = rng.pick(bools);
          return { exists: (s) => s[flag] === true };
        }
        return {};
      };
      const roll = rng.next();
      if (roll < 0.35) {
        const kind = rng.pick(SCALARS);
        const key = newKey();
        fields.push(f.field(key, kind, gate()));
        if (kind === (k.bool as Kind<unknown>)) bools.push(key);
      } else if (roll < 0.45) {
        fields.push(f.buffer(newKey(), rng.int(1, 16), gate()));
      } else if (roll < 0.55) {
        fields.push(f.array(newKey(), rng.pick(SCALARS), rng.int(1, 4), gate()));
      } else if (roll < 0.65) {
        // The count field is never gated: the array's length must always travel before it.
        const countKey = newKey();
        const countKind = rng.pick([k.u8, k.u16, k.u32, k.i32] as Kind<unknown>[]);
        fields.push(f.field(countKey, countKind));
        const max = rng.int(0, 6);
        if (rng.chance(0.5))
          fields.push(f.varray(newKey(), rng.pick(SCALARS), { count: countKey, max }, gate()));
        else fields.push(f.vbuffer(newKey(), { size: countKey, max }, gate()));
      } else if (roll < 0.75 && depth > 0) {
        const nested = makeDescription(`st${structCounter++}`, depth - 1);
        if (rng.chance(0.5)) fields.push(f.struct(newKey(), nested, gate()));
        else fields.push(f.structArray(newKey(), nested, rng.int(1, 3), gate()));
      } else if (roll < 0.85) {
        fields.push(f.unused(rng.int(1, 4), gate()));
      } else if (roll < 0.9) {
        fields.push(f.validate(`check${i}`, () => true, 'always holds'));
      } else {
        fields.push(f.equal(newKey(), rng.pick([k.u8, k.u16, k.u32, k.u64] as Kind<unknown>[])));
      }
    }
    return { fields, bools };
  };

  const makeSubsections = (parent: string, depth: number, bools: string[]): AnyVMSDesc[] => {
    const subs: AnyVMSDesc[] = [];
    const n = depth > 0 ? rng.int(0, 2) : 0;
    for (let i = 0; i < n; i++) {
      const name = `${parent}/s${i}`;
      const version = rng.int(1, 3);
      const { fields, bools: own } = makeFields(depth - 1, version, bools);
      const flag = rng.chance(0.6) && own.length > 0 ? rng.pick(own) : undefined;
      subs.push(
        vmsd({
          name,
          version_id: version,
          minimum_version_id: rng.int(0, version),
          fields,
          subsections: makeSubsections(name, depth - 1, own),
          needed: flag === undefined ? undefined : (s) => s[flag] === true,
        }),
      );
    }
    return subs;
  };

  const makeDescription = (name: string, depth: number): AnyVMSDesc => {
    const version = rng.int(1, 4);
    const { fields, bools } = makeFields(depth, version, []);
    const subsections = makeSubsections(name, depth, bools);
    if (subsections.length > 0 && name !== 'dev') {
      // QEMU cannot tell where one struct's subsections end and the next array element begins
      // when that element may itself start with 0x05: lead with a bool (written 0 or 1) as real
      // devices do, so the generated descriptions are ones QEMU could load.
      fields.unshift(f.bool(newKey()));
    }
    return vmsd({
      name,
      version_id: version,
      minimum_version_id: rng.int(0, version),
      fields,
      subsections,
    });
  };

  return makeDescription('dev', maxDepth);
}
