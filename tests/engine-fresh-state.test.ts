/**
 * Loads into nothing start from a fresh state made by a generated constructor per description
 * (src/dsl/fresh-state.ts). It must give what the earlier path gave (fields read into an empty
 * object, every key the stream lacked given its initial value by fillMissing; a load into a
 * receiver state, `into: {}`, still goes that way): the same keys
 * with the same values, now in the description's order whatever the stream held; and the
 * states it makes must not share objects.
 */
import * as fc from 'fast-check';
import {
  arbitraryDescription,
  arbitraryState,
  f,
  k,
  load,
  save,
  vmsd,
  type AnyVMSDesc,
  type State,
} from '../src';
import { ByteReader } from '../src/bytes/reader';
import { fillMissing, stateFields } from '../src/dsl/initial';
import { freshInitialState, freshStateOf } from '../src/dsl/fresh-state';
import { loadInterpreted } from '../src/engine/load';
import { releases } from '../vmstate/releases';
import { arbitraryVm } from '../vmstate/x86/vm-arbitrary';
import { findMachine, machineCtx } from '../vmstate/releases/generate';
import { canonical } from './fixtures/canonical';

/** A load's state in canonical text, or its error with everything an error tells. */
function outcome(
  fn: () => State,
): { ok: true; state: State; text: string } | { ok: false; text: string } {
  try {
    const state = fn();
    return { ok: true, state, text: canonical(state) };
  } catch (e) {
    const err = e as Error & { offset?: number; path?: string };
    return { ok: false, text: `${err.constructor.name} ${err.message} @${err.offset} ${err.path}` };
  }
}

/** The same data with every object's keys sorted: equal whatever order keys were added in. */
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const out: State = {};
    for (const k of Object.keys(v).sort()) out[k] = sorted((v as State)[k]);
    return out;
  }
  return v;
}

/** The description's keys in their order, each once (a key two subsections share comes first where first declared). */
function orderedKeys(d: AnyVMSDesc): string[] {
  return [...new Set(stateFields(d).map((f) => f.key))];
}

const descAndState = arbitraryDescription().chain((desc) =>
  arbitraryState(desc).map((state) => ({ desc, state: state as State })),
);

describe('fresh states of loads', () => {
  it('a random description: the loaded state has every key in the description order, values as the earlier path', () => {
    fc.assert(
      fc.property(descAndState, ({ desc, state }) => {
        const bytes = save(desc, state);
        // A load into nothing can be refused (an _EQUAL field the receiver's initial value
        // disagrees with): then every path must refuse it alike.
        const planned = outcome(() => load(desc, bytes));
        const interpreted = outcome(() =>
          loadInterpreted(new ByteReader(bytes), desc, desc.version_id, { endIsFinal: true }),
        );
        // The earlier path, which a load into an empty receiver state still takes: the fields
        // read into that object, then fillMissing for what the stream lacked.
        const earlier = outcome(() => load(desc, bytes, desc.version_id, { into: {} }));
        expect(planned.text).toBe(interpreted.text);
        expect(planned.ok).toBe(earlier.ok);
        if (!planned.ok || !earlier.ok) return expect(planned.text).toBe(earlier.text);
        expect(Object.keys(planned.state)).toEqual(orderedKeys(desc));
        expect(sorted(JSON.parse(planned.text))).toEqual(sorted(JSON.parse(earlier.text)));
      }),
      { numRuns: 200 },
    );
  });

  it('freshInitialState equals initialState (fillMissing of nothing), key for key, and shares no object', () => {
    fc.assert(
      fc.property(arbitraryDescription(), (desc) => {
        const a = freshInitialState(desc);
        const b = fillMissing(desc, {});
        expect(canonical(a)).toBe(canonical(b));
        const c = freshInitialState(desc);
        for (const k of Object.keys(a))
          if (a[k] !== null && typeof a[k] === 'object') expect(c[k]).not.toBe(a[k]);
        expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
      }),
      { numRuns: 200 },
    );
  });

  it('a fresh state before fill holds primitives at their initial values and undefined for objects not made yet', () => {
    fc.assert(
      fc.property(arbitraryDescription(), (desc) => {
        const init = fillMissing(desc, {});
        const s = freshStateOf(desc).make();
        expect(Object.keys(s)).toEqual(Object.keys(init));
        for (const k of Object.keys(s)) {
          const own = Object.getOwnPropertyDescriptor(s, k)!;
          if (own.get) continue; // a large byte buffer or scalar array: made on first read
          const v = init[k];
          if (v !== null && typeof v === 'object') expect(own.value).toBeUndefined();
          else expect(own.value).toBe(v);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the x86 cpu of random VMs (7.2): every key in the description order, as the earlier path, byte-identical save', () => {
    const r72 = releases['7.2'];
    const cpu = r72.catalog.find((c) => c.name === 'cpu')!.vmsd;
    const machine = findMachine(r72, 'pc-q35-7.2')!;
    const keys = orderedKeys(cpu);
    for (const vm of fc.sample(arbitraryVm(), { numRuns: 30, seed: 3 })) {
      const ctx = machineCtx(vm.ctx, machine);
      const bytes = save(cpu, vm.state.cpu, { ctx });
      const planned = load(cpu, bytes, cpu.version_id, { ctx }) as State;
      const interpreted = loadInterpreted(new ByteReader(bytes), cpu, cpu.version_id, {
        ctx,
        endIsFinal: true,
      });
      expect(Object.keys(planned)).toEqual(keys);
      expect(canonical(planned)).toBe(canonical(interpreted));
      const earlier = load(cpu, bytes, cpu.version_id, { ctx, into: {} }) as State;
      expect(sorted(JSON.parse(canonical(planned)))).toEqual(
        sorted(JSON.parse(canonical(earlier))),
      );
      // And it saves to the same bytes as the earlier path's state (post_load changed both alike).
      expect(
        Buffer.from(save(cpu, planned, { ctx })).equals(Buffer.from(save(cpu, earlier, { ctx }))),
      ).toBe(true);
    }
  });
});

describe('which values a fresh state makes on first read', () => {
  const reg = vmsd({ name: 'reg', version_id: 1, fields: [f.u64('lo'), f.u64('hi')] });
  const extra = vmsd({
    name: 'dev/extra',
    version_id: 1,
    fields: [
      f.buffer('tiles', 8192),
      f.array('big', k.u8, 4096),
      f.structArray('regs', reg, 16),
      f.structArray('slots', reg, 256),
    ],
    needed: (s) => (s as State).on !== 0,
  });
  const dev = vmsd({ name: 'dev', version_id: 1, fields: [f.u8('on')], subsections: [extra] });

  it('large byte buffers, scalar arrays and long arrays of structs on first read, short arrays of structs at once', () => {
    const s = load(dev, save(dev, { on: 0 } as State)) as State;
    expect(Object.keys(s)).toEqual(['on', 'tiles', 'big', 'regs', 'slots']);
    expect(Object.getOwnPropertyDescriptor(s, 'tiles')!.get).toBeDefined();
    expect(Object.getOwnPropertyDescriptor(s, 'big')!.get).toBeDefined();
    // A description from the stream may nest long arrays of structs: made at once, they multiply.
    expect(Object.getOwnPropertyDescriptor(s, 'slots')!.get).toBeDefined();
    expect(s.slots).toEqual(new Array(256).fill({ lo: 0n, hi: 0n }));
    const regs = Object.getOwnPropertyDescriptor(s, 'regs')!;
    expect(regs.get).toBeUndefined();
    expect(regs.value).toEqual(new Array(16).fill({ lo: 0n, hi: 0n }));
    expect((regs.value as State[])[0]).not.toBe((regs.value as State[])[1]);
    // A second load's lazy values are its own.
    const t = load(dev, save(dev, { on: 0 } as State)) as State;
    expect(t.tiles).not.toBe(s.tiles);
    expect(s.tiles).toEqual(new Uint8Array(8192));
  });

  it('a stream that has them writes over the lazy keys: values as sent, saved back byte for byte', () => {
    const sent = {
      on: 1,
      tiles: new Uint8Array(8192).fill(3),
      big: new Array(4096).fill(9),
      regs: Array.from({ length: 16 }, (_, i) => ({ lo: BigInt(i), hi: 1n << 63n })),
      slots: Array.from({ length: 256 }, (_, i) => ({ lo: BigInt(i), hi: 2n })),
    } as State;
    const bytes = save(dev, sent);
    const s = load(dev, bytes) as State;
    expect(s).toEqual(sent);
    expect(Object.keys(s)).toEqual(['on', 'tiles', 'big', 'regs', 'slots']);
    expect(Buffer.from(save(dev, s)).equals(Buffer.from(bytes))).toBe(true);
  });
});
