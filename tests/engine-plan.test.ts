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
  VMStateError,
  type AnyVMSDesc,
  type State,
} from '../src';
import { ByteWriter } from '../src/bytes/writer';
import { loadInterpreted } from '../src/engine/load';
import { PlanUnknownSubsection, planLoad, planSave } from '../src/engine/plan';
import { saveInterpreted } from '../src/engine/save';
import { canonical } from './fixtures/canonical';
import { releases } from '../vmstate/releases';
import { findMachine, machineCtx } from '../vmstate/releases/generate';
import { arbitraryVm } from '../vmstate/x86/vm-arbitrary';

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
      1n << 63n, // a u64, not an i64
      -(1n << 63n) - 1n,
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

describe('the x86 cpu on its plan', () => {
  // The description the compat bench times: inline segments and register files, 43 subsections,
  // the nested-state struct with subsections of its own, 64-bit values zero and not.
  it('random VMs (7.2, pc-q35-7.2): the plan saves and loads them itself, as the interpreter does', () => {
    const r72 = releases['7.2'];
    const cpu = r72.catalog.find((c) => c.name === 'cpu')!.vmsd as AnyVMSDesc;
    const machine = findMachine(r72, 'pc-q35-7.2')!;
    for (const vm of fc.sample(arbitraryVm(), { numRuns: 40, seed: 11 })) {
      const ctx = machineCtx(vm.ctx, machine);
      const state = vm.state.cpu as State;
      const w = new ByteWriter(16);
      planSave(w, cpu, state, ctx);
      const bytes = w.finish();
      expect(bytes).toEqual(saveInterpreted(cpu, state, { ctx }));
      const loaded = planLoad(new ByteReader(bytes), cpu, cpu.version_id, ctx, undefined, true);
      const expected = loadInterpreted(new ByteReader(bytes), cpu, cpu.version_id, {
        ctx,
        endIsFinal: true,
      });
      expect(canonical(loaded)).toBe(canonical(expected));
      // Into a receiver's state: its struct objects are loaded in place, as the kind's read does.
      const into = receiverState(cpu, state);
      const inPlace = planLoad(new ByteReader(bytes), cpu, cpu.version_id, ctx, into, true);
      const inPlaceExpected = loadInterpreted(new ByteReader(bytes), cpu, cpu.version_id, {
        ctx,
        into,
        endIsFinal: true,
      });
      expect(canonical(inPlace)).toBe(canonical(inPlaceExpected));
    }
  });
});

describe('a subsection the receiver does not know', () => {
  // A newer release's cpu read by an older one: most refused migrations of the compat matrix end
  // here. The plan stops at the subsection's marker and load.ts raises the interpreter's error
  // from there, without reading the body again.
  it("a newer release's cpu into 5.2's: the interpreter's error, offset, path and reader position", () => {
    const cpuOf = (name: string) =>
      releases[name].catalog.find((c) => c.name === 'cpu')!.vmsd as AnyVMSDesc;
    const [newer, older] = [cpuOf('10.0'), cpuOf('5.2')];
    const machine = findMachine(releases['10.0'], 'pc-q35-5.2')!;
    let refused = 0;
    for (const vm of fc.sample(arbitraryVm(), { numRuns: 60, seed: 5 })) {
      const ctx = machineCtx(vm.ctx, machine);
      let bytes: Uint8Array;
      try {
        bytes = save(newer, vm.state.cpu as State, { ctx });
      } catch (e) {
        if (e instanceof VMStateError) continue; // 10.0 refuses to save this VM
        throw e;
      }
      const run = (fn: typeof loadFrom) => {
        const r = new ByteReader(bytes, 100);
        const got = outcome(() => fn(r, older, older.version_id, { ctx, path: 'cpu#0' }));
        return `${got} pos ${r.pos}`;
      };
      const compiled = run(loadFrom);
      expect(compiled).toBe(run(loadInterpreted));
      if (!compiled.startsWith('error UnknownSubsectionError')) continue;
      refused++;
      // The plan itself stopped there (it did not hand the body back to the interpreter).
      expect(() =>
        planLoad(new ByteReader(bytes), older, older.version_id, ctx, undefined, false),
      ).toThrow(PlanUnknownSubsection);
    }
    expect(refused).toBeGreaterThan(10);
  });
});
