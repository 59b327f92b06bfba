/**
 * The loader's QEMU behaviours (migration/vmstate.c vmstate_load_state and
 * vmstate_subsection_load), each shown on bytes built by hand.
 */
import { f, k, load, loadFrom, save, vmsd, ByteReader, ByteWriter, type State } from '../src';

const sub = (name: string, version: number, body: number[]) => {
  const w = new ByteWriter();
  w.u8(0x05);
  w.countedString(name);
  w.u32(version);
  for (const b of body) w.u8(b);
  return [...w.finish()];
};

const dev = vmsd({
  name: 'dev',
  version_id: 3,
  minimum_version_id: 2,
  fields: [f.u8('a')],
  subsections: [
    vmsd({ name: 'dev/x', version_id: 1, fields: [f.u8('x')], needed: (s) => s.x !== 0 }),
    vmsd({
      name: 'dev/y',
      version_id: 2,
      minimum_version_id: 2,
      fields: [f.u8('y')],
      needed: (s) => s.y !== 0,
    }),
  ],
});

describe('version window', () => {
  it('refuses a stream version above version_id', () => {
    expect(() => load(dev, Uint8Array.of(1), 4)).toThrow(
      expect.objectContaining({ code: 'version-too-new', version: 4, local: 3, path: 'dev' }),
    );
  });
  it('refuses a stream version below minimum_version_id', () => {
    expect(() => load(dev, Uint8Array.of(1), 1)).toThrow(
      expect.objectContaining({ code: 'version-too-old', version: 1, minimum: 2 }),
    );
  });
  it('applies the same window to a subsection, with its own versions', () => {
    const bytes = Uint8Array.from([1, ...sub('dev/y', 1, [7])]);
    expect(() => load(dev, bytes, 3)).toThrow(
      expect.objectContaining({
        code: 'version-too-old',
        vmsd: 'dev/y',
        offset: 1 + 1 + 1 + 5 + 4,
      }),
    );
  });
});

describe('subsections', () => {
  it('loads them in any order and any subset', () => {
    const both = Uint8Array.from([1, ...sub('dev/y', 2, [9]), ...sub('dev/x', 1, [8])]);
    expect(load(dev, both)).toEqual({ a: 1, x: 8, y: 9 });
    const onlyY = Uint8Array.from([1, ...sub('dev/y', 2, [9])]);
    expect(load(dev, onlyY, 3, { into: { a: 0, x: 5, y: 0 } })).toEqual({ a: 1, x: 5, y: 9 });
  });

  it('fails on an unknown subsection that carries the parent prefix', () => {
    const bytes = Uint8Array.from([1, ...sub('dev/z', 1, [0])]);
    expect(() => load(dev, bytes)).toThrow(
      expect.objectContaining({
        code: 'unknown-subsection',
        subsection: 'dev/z',
        known: ['dev/x', 'dev/y'],
        offset: 1,
        path: 'dev',
      }),
    );
  });

  it('treats a name with the prefix but no slash as ours too (a plain strncmp, like pckbd_outport)', () => {
    const bytes = Uint8Array.from([1, ...sub('devil', 1, [0])]);
    expect(() => load(dev, bytes)).toThrow(
      expect.objectContaining({ code: 'unknown-subsection', subsection: 'devil' }),
    );
  });

  it('hands a subsection without its prefix back to the enclosing level without consuming it', () => {
    // A struct 'inner' inside 'outer': the outer subsection follows the struct's fields.
    const inner = vmsd({
      name: 'inner',
      version_id: 1,
      fields: [f.u8('i')],
      subsections: [
        vmsd({ name: 'inner/s', version_id: 1, fields: [f.u8('is')], needed: (s) => s.is !== 0 }),
      ],
    });
    const outer = vmsd({
      name: 'outer',
      version_id: 1,
      fields: [f.struct('st', inner)],
      subsections: [
        vmsd({ name: 'outer/s', version_id: 1, fields: [f.u8('os')], needed: (s) => s.os !== 0 }),
      ],
    });
    const bytes = Uint8Array.from([4, ...sub('inner/s', 1, [5]), ...sub('outer/s', 1, [6])]);
    expect(load(outer, bytes)).toEqual({ st: { i: 4, is: 5 }, os: 6 });
    expect(save(outer, { st: { i: 4, is: 5 }, os: 6 })).toEqual(bytes);
    // With the inner subsection absent, the outer one still loads at the outer level.
    const noInner = Uint8Array.from([4, ...sub('outer/s', 1, [6])]);
    expect(load(outer, noInner)).toEqual({ st: { i: 4, is: 0 }, os: 6 });
  });

  it('nests subsections inside subsections', () => {
    const d = vmsd({
      name: 'cpu',
      version_id: 1,
      fields: [],
      subsections: [
        vmsd({
          name: 'cpu/n',
          version_id: 1,
          fields: [f.u8('fmt')],
          subsections: [
            vmsd({
              name: 'cpu/n/vmx',
              version_id: 1,
              fields: [f.u8('pa')],
              // A subsection's needed() sees its parent's state too (QEMU passes one opaque).
              needed: (s: Readonly<State>) => s.fmt === 0,
            }),
          ],
        }),
      ],
    });
    const bytes = save(d, { fmt: 0, pa: 3 });
    expect([...bytes]).toEqual([...sub('cpu/n', 1, [0]), ...sub('cpu/n/vmx', 1, [3])]);
    expect(load(d, bytes)).toEqual({ fmt: 0, pa: 3 });
  });

  it('names the path down to the field that failed', () => {
    const d = vmsd({
      name: 'cpu',
      version_id: 1,
      fields: [],
      subsections: [
        vmsd({
          name: 'cpu/kvm_nested_state',
          version_id: 1,
          fields: [f.u16('format')],
          subsections: [
            vmsd({ name: 'cpu/kvm_nested_state/vmx', version_id: 1, fields: [f.u64('vmcs12_pa')] }),
          ],
        }),
      ],
    });
    const bytes = save(d, { format: 0, vmcs12_pa: 5n });
    expect(() => load(d, bytes.subarray(0, bytes.length - 3))).toThrow(
      expect.objectContaining({
        code: 'truncated',
        path: 'cpu/kvm_nested_state/vmx > vmcs12_pa',
        offset: bytes.length - 8,
      }),
    );
  });
});

describe('hostile lengths', () => {
  const d = vmsd({
    name: 'v',
    version_id: 1,
    fields: [
      f.u32('n'),
      f.varray('items', k.u64, { count: 'n', max: 16 }),
      f.u32('len'),
      f.vbuffer('data', { size: 'len', max: 4096 }),
    ],
  });

  it('refuses a count above the declared maximum before reading the array', () => {
    expect(() => load(d, Uint8Array.of(0, 0, 0, 17))).toThrow(
      expect.objectContaining({
        code: 'array-length',
        length: 17,
        maximum: 16,
        offset: 4,
        path: 'v > items',
      }),
    );
  });
  it('refuses a huge count against the bytes left, without allocating', () => {
    const bytes = Uint8Array.of(0, 0, 0, 0, 0, 0, 0x10, 0);
    expect(() => load(d, bytes)).toThrow(
      expect.objectContaining({ code: 'truncated', needed: 4096, available: 0 }),
    );
    const big = vmsd({
      name: 'b',
      version_id: 1,
      fields: [f.u32('len'), f.vbuffer('data', { size: 'len', max: 0xffffffff })],
    });
    expect(() => load(big, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2))).toThrow(
      expect.objectContaining({ code: 'truncated', needed: 0xffffffff, available: 2 }),
    );
  });
});

describe('validate, hooks and trailing bytes', () => {
  it('VMSTATE_VALIDATE refuses a state that fails its test, with its message', () => {
    const d = vmsd({
      name: 'q',
      version_id: 1,
      fields: [
        f.u8('head'),
        f.validate('head_ok', (s) => (s.head as number) < 8, 'head must be below 8'),
      ],
    });
    expect(load(d, Uint8Array.of(7))).toEqual({ head: 7 });
    expect(() => load(d, Uint8Array.of(9))).toThrow(
      expect.objectContaining({ code: 'validation-failed', check: 'head_ok', offset: 1 }),
    );
  });
  it('runs pre_load before the fields and post_load after the subsections, with the stream version', () => {
    const calls: string[] = [];
    const d = vmsd({
      name: 'h',
      version_id: 2,
      minimum_version_id: 1,
      fields: [f.u8('a')],
      subsections: [
        vmsd({
          name: 'h/s',
          version_id: 1,
          fields: [f.u8('b')],
          post_load: () => void calls.push('sub post_load'),
        }),
      ],
      pre_load: (s) => void calls.push(`pre_load a=${s.a}`),
      post_load: (s, v) => void calls.push(`post_load a=${s.a} b=${s.b} v=${v}`),
    });
    load(d, Uint8Array.from([3, ...sub('h/s', 1, [4])]), 1);
    expect(calls).toEqual(['pre_load a=0', 'sub post_load', 'post_load a=3 b=4 v=1']);
  });
  it('turns a throwing post_load into a typed HookError', () => {
    const d = vmsd({
      name: 'p',
      version_id: 1,
      fields: [f.u8('a')],
      post_load: () => {
        throw new Error('bad a');
      },
    });
    expect(() => load(d, Uint8Array.of(1))).toThrow(
      expect.objectContaining({ code: 'hook-failed', path: 'p' }),
    );
  });
  it('reports bytes left over after a complete body', () => {
    const d = vmsd({ name: 't', version_id: 1, fields: [f.u8('a')] });
    expect(() => load(d, Uint8Array.of(1, 2))).toThrow(
      expect.objectContaining({ code: 'trailing-bytes', count: 1, offset: 1 }),
    );
  });
  it('reports absolute offsets when the stream layer gives a base', () => {
    const d = vmsd({ name: 't', version_id: 1, fields: [f.u32('a')] });
    const r = new ByteReader(Uint8Array.of(1, 2), 0x1000);
    expect(() => loadFrom(r, d, 1, { path: 'cpu#0' })).toThrow(
      expect.objectContaining({ offset: 0x1000, path: 'cpu#0 > t > a' }),
    );
  });
});

describe('saving refuses values that do not fit', () => {
  const d = vmsd({
    name: 's',
    version_id: 1,
    fields: [f.u8('a'), f.u64('b'), f.buffer('c', 2), f.array('d', k.u16, 2)],
  });
  const good = { a: 1, b: 2n, c: Uint8Array.of(1, 2), d: [1, 2] };
  it.each([
    ['a', 256],
    ['a', 1.5],
    ['b', 2],
    ['b', -1n],
    ['c', Uint8Array.of(1)],
    ['d', [1]],
    ['d', [1, 70000]],
  ])('%s = %p', (key, value) => {
    expect(() => save(d, { ...good, [key]: value })).toThrow(
      expect.objectContaining({ code: 'invalid-value' }),
    );
  });
});

describe('validate on save', () => {
  it('runs the test with the version being written and refuses to write a state that fails it', () => {
    const seen: number[] = [];
    const d = vmsd({
      name: 'sv',
      version_id: 3,
      fields: [
        f.u8('head'),
        f.validate(
          'head_ok',
          (s, v) => (seen.push(v), (s.head as number) < 8),
          'head must be below 8',
        ),
      ],
    });
    expect(save(d, { head: 1 })).toEqual(Uint8Array.of(1));
    expect(seen).toEqual([3]);
    expect(() => save(d, { head: 9 })).toThrow(
      expect.objectContaining({ code: 'invalid-value', path: 'sv > head_ok' }),
    );
  });
});
