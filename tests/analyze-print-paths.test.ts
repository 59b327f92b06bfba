/**
 * The two ways the formatters read a section agree: straight from the bytes (lazy bodies, as
 * `vmstate analyze` prints) and through the decoded tree (after a library user read `entries`),
 * on the device-rich streams of every real release; and the output buffer's writers are
 * JSON.stringify / String exactly.
 */
import * as fc from 'fast-check';
import { isDeepStrictEqual } from 'util';
import { OutBuffer, writeHex } from '../src/analyze/out-buffer';
import { analysisJsonBytes } from '../src/analyze/json-format';
import { analysisTreeBytes } from '../src/analyze/tree-format';
import { qemuStateBytes } from '../src/analyze/qemu-format';
import { hexOf } from '../src/analyze/text-out';
import { structParts } from '../src/analyze/field-groups';
import { readStreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';
import { decodeByVmdesc, decodeEagerly, lazyBodyOf } from '../src/stream/vmdesc-codec';
import { ByteReader } from '../src/bytes/reader';
import { isDescStruct, type DescStruct } from '../src/stream/vmdesc-value';
import type { StreamContents } from '../src/stream/collect';
import { committedStreams, streamBytes } from './fixtures/release-streams';
import { memoryBuilder } from './fixtures/stream-helpers';
import { SectionType } from '../src/stream/constants';
import type { SynthField } from '../src/stream/synth';
import type { VmdescField } from '../src/stream/vmdesc';
import { SIGNED_INT_TYPES, UNSIGNED_INT_TYPES } from '../src/stream/vmdesc-plan';

const RICH = committedStreams().filter((s) => s.configuration === 'rich-max');

async function contentsOf(bytes: Uint8Array): Promise<StreamContents> {
  return readStreamContents(bytesSource(bytes));
}

/** Every struct the formatters' grouping reaches from a lazy section, nested ones included. */
function nestedParts(s: DescStruct, out: DescStruct[]): DescStruct[] {
  const { groups, subsections } = structParts(s);
  for (const g of groups)
    if (g.kind === 'one' && g.value.kind === 'struct')
      out.push(g.value, ...nestedParts(g.value, []));
  for (const sub of subsections) out.push(sub.body, ...nestedParts(sub.body, []));
  return out;
}

describe('printing from the bytes equals printing from the tree', () => {
  test('there are device-rich streams of the three releases', () => {
    expect(new Set(RICH.map((s) => s.release))).toEqual(new Set(['5.2', '7.2', '10.0']));
  });

  test.each(RICH.map((s) => [`${s.release} ${s.stem}`, s] as const))(
    '%s: json, tree and qemu formats, byte for byte',
    async (_name, s) => {
      const bytes = streamBytes(s);
      const c = await contentsOf(bytes);
      const lazy = c.entries.filter(
        (e) => e.type === 'section' && lazyBodyOf(e.section.value as DescStruct) !== undefined,
      );
      expect(lazy.length).toBeGreaterThan(10);
      const before = [
        analysisJsonBytes(c),
        analysisTreeBytes(c),
        analysisTreeBytes(c, undefined, { raw: true }),
        qemuStateBytes(c),
      ].map((b) => Buffer.from(b));
      // Read every section's entries: the formatters now go through the tree.
      for (const e of c.entries)
        if (e.type === 'section' && isDescStruct(e.section.value)) void e.section.value.entries;
      expect(
        lazy.every((e) => e.type === 'section' && !lazyBodyOf(e.section.value as DescStruct)),
      ).toBe(true);
      const after = [
        analysisJsonBytes(c),
        analysisTreeBytes(c),
        analysisTreeBytes(c, undefined, { raw: true }),
        qemuStateBytes(c),
      ].map((b) => Buffer.from(b));
      for (let i = 0; i < before.length; i++) expect(after[i].equals(before[i])).toBe(true);
    },
  );

  test.each(RICH.map((s) => [`${s.release} ${s.stem}`, s] as const))(
    "%s: the tree built from a lazy body is the checking decoder's",
    async (_name, s) => {
      const c = await contentsOf(streamBytes(s));
      let compared = 0;
      for (const e of c.entries) {
        if (e.type !== 'section') continue;
        const lazy = lazyBodyOf(e.section.value as DescStruct);
        if (!lazy) continue;
        const reference = decodeEagerly(
          new ByteReader(e.section.body, e.section.bodyOffset),
          lazy.plan.desc,
          e.section,
        );
        expect(isDeepStrictEqual({ ...(e.section.value as DescStruct) }, reference)).toBe(true);
        compared++;
      }
      expect(compared).toBeGreaterThan(10);
    },
  );

  test.each(RICH.map((s) => [`${s.release} ${s.stem}`, s] as const))(
    '%s: a nested struct the formatters group builds the tree the section tree holds',
    async (_name, s) => {
      const bytes = streamBytes(s);
      const lazyC = await contentsOf(bytes);
      const treeC = await contentsOf(bytes);
      let compared = 0;
      for (let i = 0; i < lazyC.entries.length; i++) {
        const a = lazyC.entries[i];
        const b = treeC.entries[i];
        if (a.type !== 'section' || b.type !== 'section' || !isDescStruct(a.section.value))
          continue;
        const parts = nestedParts(a.section.value, []);
        if (parts.length === 0) continue;
        // The same structs in the section's own tree, found by place (a struct and its first
        // nested struct share an offset, so each place may hold several).
        const byPlace = new Map<string, DescStruct[]>();
        const index = (t: DescStruct): void => {
          const key = `${t.offset}:${t.size}:${t.vmsdName}`;
          (byPlace.get(key) ?? byPlace.set(key, []).get(key)!).push(t);
          for (const e of t.entries) if (e.value.kind === 'struct') index(e.value);
          for (const sub of t.subsections) index(sub.body);
        };
        index(b.section.value as DescStruct);
        const plain = (t: DescStruct) => ({ entries: t.entries, subsections: t.subsections });
        for (const p of parts) {
          const candidates = byPlace.get(`${p.offset}:${p.size}:${p.vmsdName}`) ?? [];
          expect(candidates.some((t) => isDeepStrictEqual(plain(p), plain(t)))).toBe(true);
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(0);
    },
  );
});

interface JsonField {
  type?: string;
  offset?: number;
  size?: number;
  count?: number;
  value?: unknown;
  fields?: JsonField[];
  subsections?: JsonField[];
  decoded?: JsonField;
  state?: JsonField;
}

/** Big-endian integer of `size` bytes at `at`, as the type prints it (JSON number or string). */
function intAt(bytes: Uint8Array, at: number, size: number, signed: boolean): unknown {
  const u = BigInt('0x' + Buffer.from(bytes.subarray(at, at + size)).toString('hex'));
  const v = signed ? BigInt.asIntN(size * 8, u) : u;
  return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
}

/** Checks every integer and bool field of a --format json document against the stream's bytes at its offset; how many values. */
function checkJsonValues(bytes: Uint8Array, json: Buffer): number {
  const doc = JSON.parse(json.toString('utf8')) as { sections: JsonField[] };
  let checked = 0;
  const visit = (f: JsonField): void => {
    const signed = f.type !== undefined && SIGNED_INT_TYPES.has(f.type);
    const isInt = f.type !== undefined && (signed || UNSIGNED_INT_TYPES.has(f.type));
    if (f.offset !== undefined && f.size !== undefined && (isInt || f.type === 'bool')) {
      const n = f.count ?? 1;
      const size = f.size / n;
      const want: unknown[] = [];
      for (let k = 0; k < n; k++)
        want.push(
          isInt
            ? intAt(bytes, f.offset + k * size, size, signed)
            : bytes[f.offset + k * size] !== 0,
        );
      expect(f.count === undefined ? [f.value] : f.value).toEqual(want);
      checked += n;
    }
    for (const x of [...(f.fields ?? []), ...(f.subsections ?? [])]) visit(x);
    if (f.decoded) visit(f.decoded);
    if (f.state) visit(f.state);
  };
  for (const sec of doc.sections) visit(sec);
  return checked;
}

describe('--format json values are the stream bytes at their offsets', () => {
  test.each(RICH.map((s) => [`${s.release} ${s.stem}`, s] as const))(
    '%s: every integer and bool, single or in an array',
    async (_name, s) => {
      const bytes = streamBytes(s);
      expect(checkJsonValues(bytes, analysisJsonBytes(await contentsOf(bytes)))).toBeGreaterThan(
        1000,
      );
    },
  );
});

describe('--format qemu and json from the bytes, on arbitrary integer arrays', () => {
  // Arrays of one field, runs of same-named fields and nested structs (other indents): the value
  // lines the bytes path writes by copying one item are the ones the tree path prints.
  const TYPES: Array<[string, number]> = [
    ['uint8', 1],
    ['uint16', 2],
    ['uint32', 4],
    ['uint64', 8],
    ['int32', 4],
  ];
  const group = fc.record({
    name: fc.constantFrom('a', 'b', 'c'),
    t: fc.nat({ max: TYPES.length - 1 }),
    // Mostly zeros, as device registers are, in runs long enough for the zero stretches.
    values: fc.oneof(
      fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 1, maxLength: 40 }),
      fc.array(
        fc.oneof(
          { weight: 6, arbitrary: fc.constant(0n) },
          { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
        ),
        { minLength: 1, maxLength: 300 },
      ),
    ),
    nested: fc.boolean(),
  });
  test('byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(group, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
        async (devices) => {
          const { b, bytes } = memoryBuilder();
          b.header().configuration({ machineType: 'pc-synthetic' });
          const described: VmdescField[][] = [];
          devices.forEach((groups, d) => {
            const fields: SynthField[] = [];
            const desc: VmdescField[] = [];
            groups.forEach(({ name, t, values, nested }, g) => {
              const [type, size] = TYPES[t];
              const one = values.map((v) => ({
                name,
                type,
                size,
                value: BigInt.asUintN(size * 8, v),
              }));
              const field: VmdescField = {
                name,
                type,
                size,
                ...(values.length > 1 && { array_len: values.length }),
              };
              if (nested) {
                fields.push({
                  name: `s${g}`,
                  type: 'struct',
                  vmsd: `v${g}`,
                  version: 1,
                  fields: one,
                });
                desc.push({
                  name: `s${g}`,
                  type: 'struct',
                  size: size * values.length,
                  struct: { vmsd_name: `v${g}`, version: 1, fields: [field] },
                });
              } else {
                fields.push(...one);
                desc.push(field);
              }
            });
            b.device({ sectionId: d + 1, idstr: `dev${d}`, version: 1, fields });
            described.push(desc);
          });
          b.eof();
          // The builder describes each element as a field of its own: the arrays are QEMU's way.
          const vmdesc = JSON.parse(new TextDecoder().decode(b.vmdescJson())) as {
            devices: Array<{ fields: VmdescField[] }>;
          };
          vmdesc.devices.forEach((dev, d) => (dev.fields = described[d]));
          const json = new TextEncoder().encode(JSON.stringify(vmdesc));
          const head = Buffer.alloc(5);
          head[0] = SectionType.VMDESCRIPTION;
          head.writeUInt32BE(json.length, 1);
          b.raw(head).raw(json);
          const c = await contentsOf(bytes());
          const lazy = c.entries.filter(
            (e) => e.type === 'section' && lazyBodyOf(e.section.value as DescStruct) !== undefined,
          );
          expect(lazy.length).toBe(devices.length);
          // The json writer reads the same arrays from the bytes (signed ones negative too).
          const total = devices.flat().reduce((n, g) => n + g.values.length, 0);
          expect(checkJsonValues(bytes(), analysisJsonBytes(c))).toBe(total);
          const fromBytes = Buffer.from(qemuStateBytes(c));
          for (const e of lazy)
            if (e.type === 'section') void (e.section.value as DescStruct).entries;
          expect(fromBytes.toString('latin1')).toBe(
            Buffer.from(qemuStateBytes(c)).toString('latin1'),
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('integers in the tree', () => {
  // Small values share one bigint each: the values must still be the bytes' own.
  const INT_TYPES: Array<[string, number, boolean]> = [
    ['uint8', 1, false],
    ['int8', 1, true],
    ['uint16', 2, false],
    ['int16', 2, true],
    ['uint32', 4, false],
    ['int32', 4, true],
    ['uint64', 8, false],
    ['int64', 8, true],
  ];
  test('lazy and eager trees hold each field as its bytes read big-endian', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            t: fc.nat({ max: INT_TYPES.length - 1 }),
            n: fc.integer({ min: 1, max: 40 }),
            small: fc.boolean(),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.uint8Array({ minLength: 40 * 8 * 12, maxLength: 40 * 8 * 12 }),
        (specs, noise) => {
          const fields = specs.map(({ t, n }, i) => {
            const [type, size] = INT_TYPES[t];
            return { name: `f${i}`, type, size, ...(n > 1 && { array_len: n }) };
          });
          const total = specs.reduce((a, { t, n }) => a + INT_TYPES[t][1] * n, 0);
          const body = noise.slice(0, total);
          // Mostly small values, as registers are.
          let p = 0;
          for (const { t, n, small } of specs) {
            const size = INT_TYPES[t][1];
            for (let k = 0; k < n; k++, p += size) if (small) body.fill(0, p, p + size - 1);
          }
          const info = { idstr: 'dev', instanceId: 0, versionId: 1, sectionId: 1 };
          const desc = { vmsd_name: 'dev', version: 1, fields };
          const lazy = decodeByVmdesc(new ByteReader(body, 100), desc, info);
          expect(lazyBodyOf(lazy)).toBeDefined();
          const eager = decodeEagerly(new ByteReader(body, 100), desc, info);
          const expected: bigint[] = [];
          p = 0;
          for (const { t, n } of specs) {
            const [, size, signed] = INT_TYPES[t];
            for (let k = 0; k < n; k++, p += size) {
              const u = BigInt('0x' + Buffer.from(body.subarray(p, p + size)).toString('hex'));
              expected.push(signed ? BigInt.asIntN(size * 8, u) : u);
            }
          }
          for (const tree of [lazy, eager])
            expect(
              tree.entries.map((e) => (e.value.kind === 'int' ? e.value.value : undefined)),
            ).toEqual(expected);
        },
      ),
    );
  });
});

describe('OutBuffer writers', () => {
  test('jsonString is JSON.stringify', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary-ascii' })),
        (s) => {
          const out = new OutBuffer(4);
          out.jsonString(s);
          expect(out.bytes().toString('utf8')).toBe(JSON.stringify(s));
        },
      ),
    );
  });

  test('int is String(n) for safe integers and beyond', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer(),
          fc.maxSafeInteger(),
          fc.integer({ min: -1000, max: 1000 }),
          fc.double({ noNaN: true }),
        ),
        (n) => {
          const out = new OutBuffer(1);
          out.int(n);
          expect(out.toString()).toBe(String(n));
        },
      ),
    );
    const out = new OutBuffer(1);
    out.int(-0);
    expect(out.toString()).toBe('0');
  });

  test('writeHex and hexOf are a plain per-byte hex join, any range and separator', () => {
    const plain = (b: ArrayLike<number>, sep: string, from: number, to: number) =>
      Array.from(b)
        .slice(from, to)
        .map((x) => (x & 0xff).toString(16).padStart(2, '0'))
        .join(sep);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 3000, size: 'medium' }),
          // Mostly zeros (a NIC's buffers): all-zero stretches between data, at any offset, some
          // longer than one zero check covers (16 KiB).
          fc
            .tuple(
              fc.oneof(fc.nat({ max: 3000 }), fc.integer({ min: 16_000, max: 40_000 })),
              fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 24 }),
            )
            .map(([n, set]) => {
              const b = new Uint8Array(n);
              for (const [i, v] of set) if (n) b[i % n] = v;
              return b;
            }),
        ),
        fc.nat(),
        fc.nat(),
        fc.constantFrom('', ' ', ',', ':', ' - ', '\u00e9'),
        // Any start modulo 4: writeHex stores whole words once the output is aligned.
        fc.constantFrom('>', '>>', '>>>', '>>>>'),
        (b, x, y, sep, prefix) => {
          const from = b.length ? x % (b.length + 1) : 0;
          const to = from + (b.length - from ? y % (b.length - from + 1) : 0);
          expect(hexOf(b, sep, from, to)).toBe(plain(b, sep, from, to));
          expect(hexOf(Array.from(b), sep, from, to)).toBe(plain(b, sep, from, to));
          if (sep.length <= 1 && sep !== '\u00e9') {
            const out = new OutBuffer(1);
            out.text(prefix);
            writeHex(out, b, from, to, sep ? sep.charCodeAt(0) : 0);
            expect(out.toString()).toBe(prefix + plain(b, sep, from, to));
          }
        },
      ),
    );
  });

  test('text is latin1 bytes, for a text written before or not, into any buffer', () => {
    const latin1 = (s: string) => Buffer.from(s, 'latin1').toString('latin1');
    const texts = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .string({ unit: 'binary', maxLength: 40 })
        .map((s) => Array.from(s, (c) => (c.charCodeAt(0) > 0xff ? '?' : c)).join('')),
      fc.constantFrom('"0x', ': ', ',"type":', 'true', 'false', '{}', 'x'),
    );
    fc.assert(
      fc.property(fc.array(texts, { maxLength: 30 }), fc.nat({ max: 64 }), (list, initial) => {
        // Twice each: the second time the text's bytes are the ones kept from the first.
        const out = new OutBuffer(initial + 1);
        for (const s of [...list, ...list]) out.text(s);
        expect(out.toString()).toBe(latin1([...list, ...list].join('')));
      }),
    );
    // More distinct texts than are kept: the later ones are written as they come.
    const many = Array.from({ length: 6000 }, (_, i) => `v${i}`.padEnd(5, '.'));
    const out = new OutBuffer(1);
    for (const s of many) out.text(s);
    for (const s of many) out.text(s);
    expect(out.toString()).toBe(many.join('') + many.join(''));
  });

  test('jsonString and newline in one buffer, the same strings again: JSON.stringify and spaces', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(
              fc.string({ maxLength: 40 }),
              fc.constantFrom('uint32', 'env.regs', 'a"b', ''),
            ),
            fc.nat({ max: 40 }),
          ),
          { maxLength: 20 },
        ),
        (list) => {
          const out = new OutBuffer(1);
          let expected = '';
          for (const [s, spaces] of [...list, ...list]) {
            out.jsonString(s);
            out.newline(spaces);
            expected += JSON.stringify(s) + '\n' + ' '.repeat(spaces);
          }
          expect(out.bytes().toString('utf8')).toBe(expected);
        },
      ),
    );
  });

  test('writeHex is hexOf, utf8 and append keep the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string(), (b, s) => {
        const out = new OutBuffer(2);
        writeHex(out, b, 0, b.length, 0x20);
        out.utf8(s);
        const other = new OutBuffer(1);
        other.append(out.bytes());
        expect(other.bytes().toString('utf8')).toBe(hexOf(b) + s);
      }),
    );
  });
});
