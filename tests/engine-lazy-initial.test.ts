/**
 * Large initial values a load leaves out (fixed arrays and byte buffers of 4,096 elements or
 * more) are made on first use: the state must still look, to every reader and writer, exactly
 * like one whose values were made at once (keys and their order, `in`, values, JSON, spreads,
 * writes), and a save of it must give the same bytes.
 */
import { f, k, load, save, vmsd, type State } from '../src';
import { loadInterpreted } from '../src/engine/load';
import { initialValue } from '../src/dsl/initial';
import { ByteReader } from '../src/bytes/reader';

const tiles = vmsd({
  name: 'dev/tiles',
  version_id: 1,
  fields: [f.buffer('tiledata', 8192), f.array('big', k.u8, 4096), f.u32('small')],
  needed: (s) => (s as State).on !== 0, // the parent's field: subsections share its state
});
const dev = vmsd({
  name: 'dev',
  version_id: 1,
  fields: [f.u8('on'), f.buffer('page', 4096)],
  subsections: [tiles],
});

/** The state with every lazily made value replaced by an eager one, in the same key order. */
function eager(s: State): State {
  const out: State = {};
  for (const key of Object.keys(s)) out[key] = s[key];
  return out;
}

describe('lazy initial values of an absent subsection', () => {
  const bytes = save(dev, { on: 0, page: new Uint8Array(4096).fill(7) });

  it('the loaded state has every key, in order, with the initial values made at once', () => {
    const s = load(dev, bytes) as State;
    expect(Object.keys(s)).toEqual(['on', 'page', 'tiledata', 'big', 'small']);
    expect('tiledata' in s && 'big' in s).toBe(true);
    const d = Object.getOwnPropertyDescriptor(s, 'tiledata')!;
    expect(d.get).toBeDefined(); // made lazily...
    expect(d.enumerable).toBe(true);
    expect(s.tiledata).toEqual(initialValue(tiles.fields[0]));
    expect(s.tiledata).toBe(s.tiledata); // ...once: a second read sees the same object
    // It stays an accessor (a new hidden class per state was dear): still own and enumerable.
    expect(Object.getOwnPropertyDescriptor(s, 'tiledata')!.get).toBeDefined();
    expect(Object.keys(s)).toEqual(['on', 'page', 'tiledata', 'big', 'small']);
    expect(s.big).toEqual(new Array(4096).fill(0));
    expect(s.small).toBe(0);
  });

  it('JSON, spreads and deep equality see the same as for eager values', () => {
    const lazy = load(dev, bytes) as State;
    const made = eager(load(dev, bytes) as State);
    expect(JSON.stringify(lazy)).toBe(JSON.stringify(made));
    expect({ ...lazy }).toEqual(made);
    expect(lazy).toEqual(made);
  });

  it('a write before any read replaces the value, and a save of the state is byte-identical', () => {
    const s = load(dev, bytes) as State;
    const mine = new Uint8Array(8192).fill(1);
    s.tiledata = mine;
    expect(s.tiledata).toBe(mine);
    const other = load(dev, bytes) as State; // each state keeps its own value
    expect(other.tiledata).toEqual(new Uint8Array(8192));
    s.tiledata = undefined; // even undefined, once written, is the value (not made again)
    expect(s.tiledata).toBeUndefined();
    s.tiledata = mine;
    s.on = 1;
    const again = load(dev, bytes) as State;
    again.on = 1;
    const out = save(dev, s);
    expect(out.length).toBe(1 + 4096 + (2 + 9 + 4) + 8192 + 4096 + 4); // the subsection: marker, name, version
    expect(Buffer.from(save(dev, again)).equals(Buffer.from(save(dev, eager(again))))).toBe(true);
  });

  it('the compiled plan and the interpreter give equal states', () => {
    const planned = load(dev, bytes) as State;
    const interpreted = loadInterpreted(new ByteReader(bytes), dev, 1, { endIsFinal: true });
    expect(Object.keys(planned)).toEqual(Object.keys(interpreted));
    expect(eager(planned)).toEqual(eager(interpreted));
  });
});
