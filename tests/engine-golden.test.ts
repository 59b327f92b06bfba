/**
 * Golden bytes for every field kind, written out by hand from QEMU's encodings
 * (migration/vmstate-types.c: big-endian integers, bool as one byte, raw buffers...).
 */
import { f, k, load, save, vmsd, saveDescribed, type StateOf } from '../src';

const hex = (s: string) =>
  Uint8Array.from(
    s
      .replace(/\s+/g, '')
      .match(/../g)!
      .map((b) => parseInt(b, 16)),
  );

describe('scalar kinds', () => {
  const prims = vmsd({
    name: 'test/primitive',
    version_id: 1,
    fields: [
      f.bool('b_1'),
      f.bool('b_2'),
      f.u8('u8_1'),
      f.u16('u16_1'),
      f.u32('u32_1'),
      f.u64('u64_1'),
      f.i8('i8_1'),
      f.i8('i8_2'),
      f.i16('i16_1'),
      f.i16('i16_2'),
      f.i32('i32_1'),
      f.i32('i32_2'),
      f.i64('i64_1'),
      f.i64('i64_2'),
    ],
  });
  const state: StateOf<typeof prims> = {
    b_1: true,
    b_2: false,
    u8_1: 130,
    u16_1: 512,
    u32_1: 70000,
    u64_1: 12121212n,
    i8_1: 65,
    i8_2: -65,
    i16_1: 512,
    i16_2: -512,
    i32_1: 70000,
    i32_2: -70000,
    i64_1: 12121212n,
    i64_2: -12121212n,
  };
  // The values of QEMU's own tests/unit/test-vmstate.c "simple/primitive", bytes worked out by hand.
  const bytes = hex(`
    01 00 82 0200 00011170 0000000000b8f47c
    41 bf 0200 fe00 00011170 fffeee90
    0000000000b8f47c ffffffffff47 0b84`);

  it('writes QEMU bytes', () => {
    expect(Buffer.from(save(prims, state)).toString('hex')).toBe(
      Buffer.from(bytes).toString('hex'),
    );
  });
  it('reads them back', () => {
    expect(load(prims, bytes)).toEqual(state);
  });
  it('reads any non-zero bool byte as true', () => {
    const b = bytes.slice();
    b[1] = 0x7f;
    expect(load(prims, b).b_2).toBe(true);
  });
});

describe('buffers, arrays, structs, unused, timers', () => {
  const inner = vmsd({ name: 'inner', version_id: 3, fields: [f.u16('a'), f.u8('b')] });
  const d = vmsd({
    name: 'mixed',
    version_id: 1,
    fields: [
      f.buffer('raw', 3),
      f.array('regs', k.u32, 2),
      f.unused(2),
      f.struct('one', inner),
      f.structArray('many', inner, 2),
      f.timer('t'),
      f.u8('n'),
      f.varray('list', k.u16, { count: 'n', max: 4 }),
      f.u32('len'),
      f.vbuffer('blob', { size: 'len', max: 8 }),
    ],
  });
  const state: StateOf<typeof d> = {
    raw: Uint8Array.of(1, 2, 3),
    regs: [0xdeadbeef, 1],
    one: { a: 0x1234, b: 0x56 },
    many: [
      { a: 1, b: 2 },
      { a: 3, b: 4 },
    ],
    t: -1n,
    n: 3,
    list: [7, 8, 9],
    len: 2,
    blob: Uint8Array.of(0xaa, 0xbb),
  };
  const bytes = hex(`
    010203
    deadbeef 00000001
    0000
    1234 56
    0001 02  0003 04
    ffffffffffffffff
    03 0007 0008 0009
    00000002 aabb`);

  it('writes and reads the layout', () => {
    expect(save(d, state)).toEqual(bytes);
    expect(load(d, bytes)).toEqual(state);
  });

  it('skips unused bytes whatever they hold', () => {
    const b = bytes.slice();
    b[11] = 0x99;
    expect(load(d, b)).toEqual(state);
  });

  it('describes what it wrote the way QEMU vmdesc does', () => {
    const { vmdesc } = saveDescribed(d, state);
    expect(vmdesc).toEqual({
      vmsd_name: 'mixed',
      version: 1,
      fields: [
        { name: 'raw', type: 'buffer', size: 3 },
        { name: 'regs', array_len: 2, type: 'uint32', size: 4 },
        { name: 'unused', type: 'unused_buffer', size: 2 },
        {
          name: 'one',
          type: 'struct',
          struct: {
            vmsd_name: 'inner',
            version: 3,
            fields: [
              { name: 'a', type: 'uint16', size: 2 },
              { name: 'b', type: 'uint8', size: 1 },
            ],
          },
          size: 3,
        },
        {
          name: 'many',
          array_len: 2,
          type: 'struct',
          struct: {
            vmsd_name: 'inner',
            version: 3,
            fields: [
              { name: 'a', type: 'uint16', size: 2 },
              { name: 'b', type: 'uint8', size: 1 },
            ],
          },
          size: 3,
        },
        { name: 't', type: 'timer', size: 8 },
        { name: 'n', type: 'uint8', size: 1 },
        { name: 'list', array_len: 3, type: 'uint16', size: 2 },
        { name: 'len', type: 'uint32', size: 4 },
        { name: 'blob', type: 'buffer', size: 2 },
      ],
    });
    // QEMU's key order: name, array_len|index, type, struct, size.
    expect(Object.keys(vmdesc.fields[3])).toEqual(['name', 'type', 'struct', 'size']);
  });
});

describe('_equal and int32 le kinds', () => {
  const d = vmsd({
    name: 'eq',
    version_id: 1,
    fields: [f.equal('count', k.u32, { hint: 'queue count' }), f.int32le('version_id')],
  });
  const bytes = hex('00000004 00000002');

  it('writes them as plain big-endian integers (int32 le means "less or equal", not little-endian)', () => {
    expect(save(d, { count: 4, version_id: 2 })).toEqual(bytes);
  });
  it('loads when the receiver agrees', () => {
    expect(load(d, bytes, 1, { into: { count: 4, version_id: 3 } })).toEqual({
      count: 4,
      version_id: 2,
    });
  });
  it('refuses a value different from the receiver (EqualMismatchError)', () => {
    expect(() => load(d, bytes, 1, { into: { count: 5, version_id: 3 } })).toThrow(
      expect.objectContaining({ code: 'equal-mismatch', offset: 0, path: 'eq > count' }),
    );
  });
  it('refuses an int32 le value above the receiver (RangeCheckError)', () => {
    expect(() => load(d, bytes, 1, { into: { count: 4, version_id: 1 } })).toThrow(
      expect.objectContaining({ code: 'range-check', offset: 4, path: 'eq > version_id' }),
    );
  });
  it('names the types as QEMU does in the vmdesc', () => {
    const { vmdesc } = saveDescribed(d, { count: 4, version_id: 2 });
    expect(vmdesc.fields.map((x) => x.type)).toEqual(['uint32 equal', 'int32 le']);
  });
});

describe('version and test gates', () => {
  // QEMU's tests/unit/test-vmstate.c "test/versioned": b, e, f exist from version 2 on.
  const d = vmsd({
    name: 'test/versioned',
    version_id: 2,
    minimum_version_id: 1,
    fields: [
      f.u32('a'),
      f.u32('b', { version: 2 }),
      f.u32('c'),
      f.u64('d'),
      f.u32('e', { version: 2 }),
      f.u64('f', { version: 2 }),
    ],
  });
  it('a version-1 stream holds only a, c, d and leaves the others as the receiver had them', () => {
    const v1 = hex('00000001 00000003 0000000000000004');
    const got = load(d, v1, 1, { into: { a: 0, b: 22, c: 0, d: 0n, e: 55, f: 66n } });
    expect(got).toEqual({ a: 1, b: 22, c: 3, d: 4n, e: 55, f: 66n });
  });
  it('the sender writes its own version: all six fields', () => {
    expect(save(d, { a: 1, b: 2, c: 3, d: 4n, e: 5, f: 6n }).length).toBe(32);
  });
  it('a test-gated field travels only when its test holds, on both sides', () => {
    const t = vmsd({
      name: 'test/skip',
      version_id: 1,
      fields: [f.bool('skip'), f.u8('c', { exists: (s) => !s.skip }), f.u8('d')],
    });
    expect(save(t, { skip: true, c: 9, d: 1 })).toEqual(hex('01 01'));
    expect(save(t, { skip: false, c: 9, d: 1 })).toEqual(hex('00 09 01'));
    expect(load(t, hex('01 01'), 1, { into: { skip: false, c: 7, d: 0 } })).toEqual({
      skip: true,
      c: 7,
      d: 1,
    });
  });
});

describe('subsection framing', () => {
  const d = vmsd({
    name: 'cpu',
    version_id: 12,
    minimum_version_id: 11,
    fields: [f.u32('eip')],
    subsections: [
      vmsd({
        name: 'cpu/poll_control_msr',
        version_id: 1,
        fields: [f.u64('poll')],
        needed: (s) => s.poll !== 0n,
      }),
      vmsd({
        name: 'cpu/other',
        version_id: 3,
        fields: [f.u8('other')],
        needed: (s) => s.other !== 0,
      }),
    ],
  });
  it('writes 0x05, the counted name, be32 version, then the body (real 7.2 cpu/poll_control_msr bytes)', () => {
    const bytes = save(d, { eip: 0xfff0, poll: 1n, other: 0 });
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '0000fff0' +
        '05' +
        '14' +
        Buffer.from('cpu/poll_control_msr').toString('hex') +
        '00000001' +
        '0000000000000001',
    );
  });
  it('omits a subsection whose needed() is false', () => {
    expect(save(d, { eip: 1, poll: 0n, other: 0 })).toEqual(hex('00000001'));
  });
});

describe('custom kinds', () => {
  // QEMU's CPU_Double_U (VMSTATE_CPUDOUBLE_ARRAY): a double as be32 upper word, then be32 lower word.
  const cpuDouble = k.custom<number>({
    type: 'CPU_Double_U',
    wireSize: 8,
    write: (w, v) => {
      const dv = new DataView(new ArrayBuffer(8));
      dv.setFloat64(0, v);
      w.u32(dv.getUint32(0));
      w.u32(dv.getUint32(4));
    },
    read: (r) => {
      const dv = new DataView(new ArrayBuffer(8));
      dv.setUint32(0, r.u32());
      dv.setUint32(4, r.u32());
      return dv.getFloat64(0);
    },
    initial: () => 0,
    arbitrary: (fc) => fc.double({ noNaN: true }),
    check: (v) => (typeof v === 'number' ? undefined : 'expected a number'),
  });
  const d = vmsd({ name: 'fpu', version_id: 1, fields: [f.array('fpregs', cpuDouble, 2)] });

  it('writes and reads with the catalog-supplied get/put', () => {
    const bytes = hex('3ff0000000000000 c000000000000000');
    expect(save(d, { fpregs: [1, -2] })).toEqual(bytes);
    expect(load(d, bytes)).toEqual({ fpregs: [1, -2] });
  });
  it('names itself in the vmdesc and refuses values its check rejects', () => {
    expect(saveDescribed(d, { fpregs: [1, 2] }).vmdesc.fields[0]).toEqual({
      name: 'fpregs',
      array_len: 2,
      type: 'CPU_Double_U',
      size: 8,
    });
    expect(() => save(d, { fpregs: [1, 'x' as unknown as number] })).toThrow(
      expect.objectContaining({ code: 'invalid-value', path: 'fpu > fpregs[1]' }),
    );
  });
  it('reports truncation inside custom reads as a typed error', () => {
    const one = vmsd({ name: 'fpu', version_id: 1, fields: [f.field('fpreg', cpuDouble)] });
    expect(() => load(one, hex('3ff00000'))).toThrow(
      expect.objectContaining({ code: 'truncated', offset: 4 }),
    );
  });
  it('refuses a fixed array the input is too short for before reading its elements', () => {
    expect(() => load(d, hex('3ff00000'))).toThrow(
      expect.objectContaining({ code: 'truncated', offset: 0, path: 'fpu > fpregs' }),
    );
  });
});

describe('variable lengths of every count kind', () => {
  it.each([
    ['u8', f.u8('n'), '02'],
    ['u16', f.u16('n'), '0002'],
    ['u32', f.u32('n'), '00000002'],
    ['i32', f.i32('n'), '00000002'],
  ] as const)('%s count', (_, countField, countHex) => {
    const d = vmsd({
      name: 'v',
      version_id: 1,
      fields: [
        countField,
        f.varray('items', k.u8, { count: 'n', max: 4 }),
        f.vbuffer('buf', { size: 'n', max: 4 }),
      ],
    });
    const bytes = hex(`${countHex} 0a0b 0c0d`);
    const state = { n: 2, items: [10, 11], buf: Uint8Array.of(12, 13) };
    expect(save(d, state)).toEqual(bytes);
    expect(load(d, bytes)).toEqual(state);
  });
  it('a negative i32 count is refused', () => {
    const d = vmsd({
      name: 'v',
      version_id: 1,
      fields: [f.i32('n'), f.varray('items', k.u8, { count: 'n', max: 4 })],
    });
    expect(() => load(d, hex('ffffffff'))).toThrow(
      expect.objectContaining({ code: 'array-length', length: -1 }),
    );
  });
});
