/**
 * parseVmdesc refuses a VM description whose shape the decoder cannot trust, naming where: a
 * MalformedError at the description's offset, path 'vmdesc', the message giving the device and
 * the field (src/stream/vmdesc.ts).
 */
import { MalformedError } from '../src/errors';
import { parseVmdesc } from '../src/stream/vmdesc';

const field = (extra: Record<string, unknown> = {}) => ({
  name: 'env.eip',
  type: 'uint64',
  size: 8,
  ...extra,
});
const device = (fields: unknown[], extra: Record<string, unknown> = {}) => ({
  name: 'cpu',
  instance_id: 0,
  vmsd_name: 'cpu',
  version: 12,
  fields,
  ...extra,
});
const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** The refusal's message, without the place every one of them ends with. */
function refusal(v: unknown): { message: string } {
  try {
    parseVmdesc(bytes(v), 1234);
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedError);
    const m = e as MalformedError;
    expect([m.offset, m.path]).toEqual([1234, 'vmdesc']);
    const place = ' (at byte 0x4d2, vmdesc)';
    expect(m.message.endsWith(place)).toBe(true);
    return { message: m.message.slice(0, -place.length) };
  }
  throw new Error('parseVmdesc took it');
}

describe('parseVmdesc checks the shape of every device', () => {
  test('a well-formed description, nested structs and subsections, is taken as it is', () => {
    const v = {
      page_size: 4096,
      devices: [
        device(
          [
            field(),
            field({ name: 'env.regs', array_len: 16, index: 0 }),
            field({
              name: 'env.segs',
              type: 'struct',
              struct: { vmsd_name: 'segment', version: 1, fields: [field({ name: 'base' })] },
            }),
          ],
          {
            subsections: [{ vmsd_name: 'cpu/msr_smi_count', version: 1, fields: [field()] }],
          },
        ),
      ],
    };
    expect(parseVmdesc(bytes(v), 0)).toEqual(v);
  });

  test.each([
    ['size', -1],
    ['size', 1.5],
    ['array_len', '16'],
    ['index', 2 ** 53],
  ])('a field whose %s is %p', (key, value) => {
    expect(refusal({ devices: [device([field(), field({ [key]: value })])] }).message).toBe(
      `VM description: devices[0] (cpu).env.eip: bad ${key}`,
    );
  });

  test('a field without a name or a type, by its index', () => {
    expect(refusal({ devices: [device([field(), { name: 'x' }])] }).message).toBe(
      'VM description: devices[0] (cpu).fields[1] has no name/type',
    );
  });

  test('inside a struct and a subsection, by their path', () => {
    const struct = field({
      name: 'env.segs',
      type: 'struct',
      struct: { fields: [field({ name: 'base', size: -8 })] },
    });
    expect(refusal({ devices: [device([struct])] }).message).toBe(
      'VM description: devices[0] (cpu).env.segs.base: bad size',
    );
    const sub = device([field()], { subsections: [{ fields: [field(), 7] }] });
    expect(refusal({ devices: [sub] }).message).toBe(
      'VM description: devices[0] (cpu).subsections[0].fields[1] has no name/type',
    );
    expect(refusal({ devices: [device([field()], { subsections: {} })] }).message).toBe(
      'VM description: devices[0] (cpu).subsections is not an array',
    );
    expect(
      refusal({ devices: [device([field({ type: 'struct', struct: { fields: 1 } })])] }).message,
    ).toBe('VM description: devices[0] (cpu).env.eip has no "fields" array');
  });

  test('structs nested deeper than 64', () => {
    let s: Record<string, unknown> = { fields: [field()] };
    for (let i = 0; i < 70; i++) s = { fields: [field({ name: 'n', type: 'struct', struct: s })] };
    expect(refusal({ devices: [device(s.fields as unknown[])] }).message).toMatch(
      /^VM description: devices\[0\] \(cpu\)(\.n)+: nested too deeply$/,
    );
  });
});
