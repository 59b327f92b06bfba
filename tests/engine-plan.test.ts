/**
 * The compiled plans (src/engine/plan.ts) against the interpreter (Saver/Loader), over random
 * descriptions and states: the same bytes, the same loaded states (key order included), the
 * same reader position, and on bad input the same typed error (class, message, offset, path).
 * The plans themselves must take valid input without handing it back to the interpreter.
 */
import * as fc from 'fast-check';
import {
  ByteReader,
  arbitraryDescription,
  arbitraryState,
  loadFrom,
  receiverState,
  save,
  type AnyVMSDesc,
  type State,
} from '../src';
import { ByteWriter } from '../src/bytes/writer';
import { loadInterpreted } from '../src/engine/load';
import { planLoad, planSave } from '../src/engine/plan';
import { saveInterpreted } from '../src/engine/save';
import { canonical } from './fixtures/canonical';

const RUNS = { numRuns: 300 };

const descAndState = arbitraryDescription().chain((desc) =>
  arbitraryState(desc).map((state) => ({ desc, state: state as State })),
);

/** What a call did: its result, or its error with everything an error tells. */
function outcome(fn: () => unknown): string {
  try {
    return `ok ${canonical(fn())}`;
  } catch (e) {
    const err = e as Error & { offset?: number; path?: string };
    return `error ${err.constructor.name} ${err.message} @${err.offset} ${err.path}`;
  }
}

function bothLoads(desc: AnyVMSDesc, bytes: Uint8Array, into: State | undefined, final: boolean) {
  const run = (fn: typeof loadFrom) => {
    const r = new ByteReader(bytes, 100);
    return outcome(() => {
      const s = fn(r, desc, desc.version_id, { into, endIsFinal: final, path: 'dev#0' });
      return { s, pos: r.pos };
    });
  };
  return { compiled: run(loadFrom), interpreted: run(loadInterpreted) };
}

describe('compiled plans agree with the interpreter', () => {
  it('valid states: the plan itself saves and loads them, byte for byte and key for key', () => {
    fc.assert(
      fc.property(descAndState, ({ desc, state }) => {
        const w = new ByteWriter(16);
        planSave(w, desc, state, {});
        const bytes = w.finish();
        expect(bytes).toEqual(saveInterpreted(desc, state));
        const into = receiverState(desc, state);
        const loaded = planLoad(new ByteReader(bytes), desc, desc.version_id, {}, into, true);
        const expected = loadInterpreted(new ByteReader(bytes), desc, desc.version_id, {
          into,
          endIsFinal: true,
        });
        expect(canonical(loaded)).toBe(canonical(expected));
        // Without a receiver state (an `_equal` field may then refuse): missing keys filled alike.
        const alone = bothLoads(desc, bytes, undefined, true);
        expect(alone.compiled).toBe(alone.interpreted);
      }),
      RUNS,
    );
  });

  it('states with a wrong value: the same bytes or the same error', () => {
    const wrong = fc.constantFrom<unknown>(
      undefined,
      -1,
      1.5,
      256,
      2 ** 32,
      -1n,
      1n << 64n,
      'x',
      true,
      [],
      {},
      new Uint8Array(3),
    );
    fc.assert(
      fc.property(descAndState, fc.nat(), wrong, ({ desc, state }, pick, value) => {
        const keys = Object.keys(state);
        const bad = { ...state };
        if (keys.length) bad[keys[pick % keys.length]] = value;
        expect(outcome(() => save(desc, bad, { path: 'dev#0' }))).toBe(
          outcome(() => saveInterpreted(desc, bad, { path: 'dev#0' })),
        );
      }),
      RUNS,
    );
  });

  it('corrupted and cut bytes: the same state or the same error, at the same place', () => {
    const damaged = descAndState.chain(({ desc, state }) => {
      const bytes = saveInterpreted(desc, state);
      return fc
        .record({
          edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
          cut: fc.nat(bytes.length),
          final: fc.boolean(),
          receiver: fc.boolean(),
        })
        .map(({ edits, cut, final, receiver }) => {
          const b = bytes.slice(0, cut);
          for (const [i, v] of edits) if (b.length) b[i % b.length] = v;
          return { desc, into: receiver ? receiverState(desc, state) : undefined, bytes: b, final };
        });
    });
    fc.assert(
      fc.property(damaged, ({ desc, into, bytes, final }) => {
        const { compiled, interpreted } = bothLoads(desc, bytes, into, final);
        expect(compiled).toBe(interpreted);
      }),
      RUNS,
    );
  });
});
