/**
 * Properties of the engine over random descriptions (every field shape, gates, nested structs
 * and subsections) and random valid states for them.
 */
import * as fc from 'fast-check';
import {
  ByteReader,
  loadFrom,
  arbitraryDescription,
  arbitraryState,
  load,
  receiverState,
  save,
  TruncatedError,
  VMStateError,
  type AnyVMSDesc,
  type State,
} from '../src';

const RUNS = { numRuns: 300 };
const SECTION_FOOTER = 0x7e;

/** A random description with a random valid state for it. */
const descAndState = arbitraryDescription().chain((desc) =>
  arbitraryState(desc).map((state) => ({ desc, state: state as State })),
);

/** Loads as a receiver that shares the sender's configuration (`_equal` fields) would. */
const loadAsReceiver = (desc: AnyVMSDesc, state: State, bytes: Uint8Array) =>
  load(desc, bytes, desc.version_id, { into: receiverState(desc, state) });

describe('round trips', () => {
  it('load(save(s)) equals s', () => {
    fc.assert(
      fc.property(descAndState, ({ desc, state }) => {
        expect(loadAsReceiver(desc, state, save(desc, state))).toEqual(state);
      }),
      RUNS,
    );
  });

  it('save(load(b)) equals b for saved bytes b', () => {
    fc.assert(
      fc.property(descAndState, ({ desc, state }) => {
        const bytes = save(desc, state);
        expect(save(desc, loadAsReceiver(desc, state, bytes))).toEqual(bytes);
      }),
      RUNS,
    );
  });
});

describe('truncation', () => {
  it('every strict prefix of a framed body (body + section footer) is a TruncatedError', () => {
    fc.assert(
      fc.property(descAndState, ({ desc, state }) => {
        const body = save(desc, state);
        const framed = Uint8Array.from([...body, SECTION_FOOTER, 0, 0, 0, 1]);
        for (let cut = 0; cut < framed.length; cut++) {
          const r = new ByteReader(framed.subarray(0, cut));
          // What the stream layer does: the body, then the footer byte that must follow it.
          const attempt = () => {
            loadFrom(r, desc, desc.version_id, { into: receiverState(desc, state) });
            if (r.u8() !== SECTION_FOOTER) throw new Error('footer expected');
            r.u32();
          };
          expect(attempt).toThrow(TruncatedError);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('corruption', () => {
  it('random byte changes give a state or a typed error, nothing else', () => {
    const corrupted = descAndState
      .filter(({ desc, state }) => save(desc, state).length > 0)
      .chain(({ desc, state }) => {
        const bytes = save(desc, state);
        return fc
          .array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), {
            minLength: 1,
            maxLength: 4,
          })
          .map((edits) => {
            const b = bytes.slice();
            for (const [i, v] of edits) b[i] = v;
            return { desc, state, bytes: b };
          });
      });
    fc.assert(
      fc.property(corrupted, ({ desc, state, bytes }) => {
        try {
          loadAsReceiver(desc, state, bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(VMStateError);
          expect(Number.isInteger((e as VMStateError).offset)).toBe(true);
          expect((e as VMStateError).offset).toBeLessThanOrEqual(bytes.length);
        }
      }),
      RUNS,
    );
  });

  it('random garbage of any length gives a state or a typed error', () => {
    fc.assert(
      fc.property(arbitraryDescription(), fc.uint8Array({ maxLength: 64 }), (desc, bytes) => {
        try {
          load(desc, bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(VMStateError);
        }
      }),
      RUNS,
    );
  });
});
