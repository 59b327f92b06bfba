import fc from 'fast-check';
import { MalformedError, UnsupportedError, VMStateError } from '../src/errors';
import { Command, RamFlag } from '../src/stream/constants';
import type { RamRecord } from '../src/stream/ram';
import type { SynthPage } from '../src/stream/synth';
import type { DescStruct } from '../src/stream/vmdesc-value';
import { groupedEntries } from '../src/stream/vmdesc-value';
import { contentsOf, memoryBuilder, reencodeBytes } from './fixtures/stream-helpers';

const PAGE = 4096;
const page = (seed: number) => Uint8Array.from({ length: PAGE }, (_, i) => (i * 7 + seed) & 0xff);

/** A stream using features the real captures lack: configuration subsections, every page kind, commands, a package. */
function richStream(opts: { vmdescPad?: number } = {}) {
  const { b, bytes } = memoryBuilder();
  b.header().configuration({
    machineType: 'pc-q35-8.2',
    targetPageBits: 12,
    capabilities: ['x-ignore-shared', 'validate-uuid'],
    uuid: Uint8Array.from({ length: 16 }, (_, i) => i * 17),
  });
  b.command(Command.OPEN_RETURN_PATH).command(Command.PING, Uint8Array.of(0, 0, 0, 1));
  b.ramStart(3, [
    { name: 'pc.ram', length: 0x10000n, mrAddr: 0n },
    { name: '/rom@etc/acpi/tables', length: 0x2000n, mrAddr: 0xfffc0000n },
  ]);
  b.ramPages('part', 3, [
    { block: 'pc.ram', addr: 0n, kind: 'zero' },
    { block: 'pc.ram', addr: 0x1000n, kind: 'zero', fill: 0x5a },
    { block: 'pc.ram', addr: 0x2000n, kind: 'page', data: page(1) },
    { block: 'pc.ram', addr: 0x3000n, kind: 'compressed', data: page(2) },
    { kind: 'multifd-flush' },
    {
      block: '/rom@etc/acpi/tables',
      addr: 0x1000n,
      kind: 'page',
      data: new Uint8Array(PAGE).fill(0),
    },
    {
      block: 'pc.ram',
      addr: 0x2000n,
      kind: 'xbzrle',
      delta: Uint8Array.of(0x04, 0x02, 0xaa, 0xbb),
    },
  ]);
  b.ramPages('end', 3, []);
  b.device({
    sectionId: 0,
    idstr: 'timer',
    version: 2,
    fields: [
      { name: 'cpu_ticks_offset', type: 'int64', size: 8, value: -2n },
      { name: 'unused', type: 'unused_buffer', bytes: new Uint8Array(8) },
    ],
  });
  b.device({
    sectionId: 7,
    idstr: '0000:00:1f.0/dev',
    instanceId: 1,
    version: 3,
    fields: [
      { name: 'flag', type: 'bool', size: 1, value: 1n },
      {
        name: 'inner',
        type: 'struct',
        vmsd: 'inner',
        version: 1,
        fields: [{ name: 'x', type: 'uint16', size: 2, value: 0xbeefn }],
      },
    ],
    subsections: [
      {
        name: 'dev/extra',
        version: 2,
        fields: [{ name: 'y', type: 'uint32', size: 4, value: 7n }],
      },
    ],
  });
  // A package: its nested sections end with their own EOF.
  const inner = memoryBuilder();
  inner.b
    .device({
      sectionId: 9,
      idstr: 'pkg',
      version: 1,
      fields: [{ name: 'z', type: 'uint8', size: 1, value: 3n }],
    })
    .eof();
  const blob = inner.bytes();
  b.command(Command.PACKAGED, Uint8Array.of(0, 0, blob.length >> 8, blob.length & 0xff)).raw(blob);
  b.device({
    sectionId: 9,
    idstr: 'pkg',
    version: 1,
    fields: [{ name: 'z', type: 'uint8', size: 1, value: 3n }],
  });
  b.eof().vmdesc(opts.vmdescPad);
  return bytes();
}

describe('synthesized stream with every feature', () => {
  test('decodes configuration subsections, x-ignore-shared block addresses, all page kinds, commands and a package', async () => {
    const bytes = richStream();
    const ram: RamRecord[] = [];
    const c = await contentsOf(bytes, { onRam: (r) => ram.push(r) });
    expect(c.configuration).toMatchObject({
      machineType: 'pc-q35-8.2',
      targetPageBits: 12,
      capabilities: ['x-ignore-shared', 'validate-uuid'],
    });
    expect(c.configuration!.subsections.map((s) => s.name)).toEqual([
      'configuration/target-page-bits',
      'configuration/capabilities',
      'configuration/uuid',
    ]);
    expect(c.ram.blocks.map((b) => b.mrAddr)).toEqual([0n, 0xfffc0000n]);
    expect(ram.map((r) => r.kind)).toEqual([
      'mem-size',
      'eos',
      'zero',
      'zero',
      'page',
      'compressed',
      'multifd-flush',
      'page',
      'xbzrle',
      'eos',
      'eos',
    ]);
    expect(ram.map((r) => ('continued' in r ? r.continued : null))).toEqual([
      null,
      null,
      false,
      true,
      true,
      true,
      null,
      false,
      false,
      null,
      null,
    ]);
    const commands = c.entries.filter((e) => e.type === 'command');
    expect(commands.map((e) => (e.type === 'command' ? e.name : ''))).toEqual([
      'OPEN_RETURN_PATH',
      'PING',
      'PACKAGED',
    ]);
    const sections = c.entries.flatMap((e) => (e.type === 'section' ? [e.section] : []));
    expect(sections.map((s) => [s.idstr, s.depth, s.decodedBy])).toEqual([
      ['timer', 0, 'vmdesc'],
      ['0000:00:1f.0/dev', 0, 'vmdesc'],
      ['pkg', 1, 'vmdesc'],
      ['pkg', 0, 'vmdesc'],
    ]);
    const dev = sections[1].value as DescStruct;
    expect(dev.subsections[0]).toMatchObject({ name: 'dev/extra', version: 2 });
    const timer = sections[0].value as DescStruct;
    expect(groupedEntries(timer)[0][1]).toMatchObject({ kind: 'int', value: -2n });
  });

  test('re-encodes byte for byte', async () => {
    const bytes = richStream();
    expect(
      Buffer.compare(Buffer.from(await reencodeBytes(bytes, {}, 333)), Buffer.from(bytes)),
    ).toBe(0);
  });

  test.each([0x107b, 0x7b00, 0x1000])(
    'finds a vmdesc of %d bytes, whose be32 length holds "{" or NUL bytes',
    async (pad) => {
      const bytes = richStream({ vmdescPad: pad });
      const c = await contentsOf(bytes);
      expect(c.vmdesc!.json.length).toBe(pad);
      expect(c.walk.vmdescFrom).toBe('end-of-file');
      const sections = c.entries.flatMap((e) => (e.type === 'section' ? [e.section] : []));
      expect(sections.every((s) => s.decodedBy === 'vmdesc')).toBe(true);
    },
  );
});

/** A minimal valid stream with the given raw RAM records in its PART section. */
function withRawRam(
  records: (w: {
    u64: (v: bigint) => void;
    name: (s: string) => void;
    byte: (b: number) => void;
  }) => void,
) {
  const { b, bytes } = memoryBuilder();
  b.header()
    .configuration({ machineType: 'm' })
    .ramStart(2, [{ name: 'pc.ram', length: 0x4000n }]);
  const parts: number[] = [0x02, 0, 0, 0, 2];
  const w = {
    u64: (v: bigint) => {
      for (let i = 7; i >= 0; i--) parts.push(Number((v >> BigInt(i * 8)) & 0xffn));
    },
    name: (s: string) => parts.push(s.length, ...Array.from(s, (c) => c.charCodeAt(0))),
    byte: (x: number) => parts.push(x),
  };
  records(w);
  w.u64(0x10n);
  parts.push(0x7e, 0, 0, 0, 2, 0x00);
  b.raw(Uint8Array.from(parts));
  return bytes();
}

describe('RAM record errors', () => {
  test.each<[string, Parameters<typeof withRawRam>[0], RegExp]>([
    ['unknown flag combination', (w) => w.u64(0x0cn), /unknown combination of RAM flags 0xc/],
    ['unknown block', (w) => (w.u64(0x02n), w.name('nope'), w.byte(0)), /unknown RAM block 'nope'/],
    [
      'CONTINUE with no previous block',
      (w) => (w.u64(0x22n), w.byte(0)),
      /CONTINUE but no previous block/,
    ],
    [
      'offset outside the block',
      (w) => (w.u64(0x4002n), w.name('pc.ram'), w.byte(0)),
      /outside block 'pc.ram'/,
    ],
    [
      'XBZRLE with a bad encoding flag',
      (w) => (w.u64(0x40n), w.name('pc.ram'), w.byte(2)),
      /XBZRLE page with encoding flag/,
    ],
    ['EOS with extra flags', (w) => w.u64(0x12n | 0x1000n), /unknown combination|CONTINUE/],
  ])('%s: MalformedError with its offset', async (_what, recs, message) => {
    const bytes = withRawRam(recs);
    const err = await contentsOf(bytes).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MalformedError);
    expect((err as MalformedError).what).toMatch(message);
    expect((err as MalformedError).offset).toBeGreaterThan(0);
  });

  test('an RDMA hook record is unsupported, not malformed', async () => {
    await expect(contentsOf(withRawRam((w) => w.u64(0x80n)))).rejects.toBeInstanceOf(
      UnsupportedError,
    );
  });
});

describe('stream-level errors', () => {
  const good = () => {
    const { b, bytes } = memoryBuilder();
    b.header()
      .configuration({ machineType: 'm' })
      .device({
        sectionId: 1,
        idstr: 'd',
        version: 1,
        fields: [{ name: 'a', type: 'uint32', size: 4, value: 1n }],
      })
      .eof()
      .vmdesc();
    return bytes();
  };
  const expectError = async (bytes: Uint8Array, message: RegExp, at?: number) => {
    const err = await contentsOf(bytes).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VMStateError);
    expect((err as VMStateError).what).toMatch(message);
    if (at !== undefined) expect((err as VMStateError).offset).toBe(at);
  };

  test('the synthesized baseline is fine', async () => {
    await expect(contentsOf(good())).resolves.toBeDefined();
  });
  test('bad magic', async () => {
    const b = good();
    b[0] = 0x51 ^ 1;
    await expectError(b, /not a migration stream/, 0);
  });
  test('version 2 is obsolete', async () => {
    const b = good();
    b[7] = 2;
    await expectError(b, /v2 format is obsolete/, 4);
  });
  test('unknown section type', async () => {
    const b = good();
    const at = 8 + 1 + 4 + 1; // after header and configuration 'm'
    b[at] = 0x09;
    await expectError(b, /unknown section type 0x09/, at);
  });
  test('mismatched footer id', async () => {
    const b = good();
    const footer = b.indexOf(0x7e);
    b[footer + 4] = 5;
    await expectError(b, /mismatched section id in footer/, footer);
  });
  test('PART for an unknown section', async () => {
    const { b, bytes } = memoryBuilder();
    b.header()
      .raw(Uint8Array.of(0x02, 0, 0, 0, 9))
      .eof();
    await expectError(bytes(), /unknown section id 9/, 8);
  });
  test('unknown command', async () => {
    const { b, bytes } = memoryBuilder();
    b.header().command(0x63).eof();
    await expectError(bytes(), /unknown command/, 8);
  });
  test('fixed-length command with the wrong length', async () => {
    const { b, bytes } = memoryBuilder();
    b.header().command(Command.PING, Uint8Array.of(1)).eof();
    await expectError(bytes(), /PING with length 1, expected 4/, 8);
  });
  test('no EOF', async () => {
    const b = good();
    const eof = b.lastIndexOf(0x06) - 1;
    await expectError(b.subarray(0, eof), /truncated/, eof);
  });
});

describe('property: random RAM page sequences', () => {
  const blocks = [
    { name: 'pc.ram', length: 0x40000n },
    { name: 'other', length: 0x8000n },
  ];
  const pageArb: fc.Arbitrary<SynthPage> = fc.oneof(
    fc
      .record({
        block: fc.constantFrom('pc.ram', 'other'),
        n: fc.nat({ max: 7 }),
        kind: fc.constant('zero' as const),
        fill: fc.integer({ min: 0, max: 255 }),
      })
      .map((p) => ({ block: p.block, addr: BigInt(p.n * PAGE), kind: p.kind, fill: p.fill })),
    fc
      .record({
        block: fc.constantFrom('pc.ram', 'other'),
        n: fc.nat({ max: 7 }),
        seed: fc.nat(255),
      })
      .map((p) => ({
        block: p.block,
        addr: BigInt(p.n * PAGE),
        kind: 'page' as const,
        data: page(p.seed),
      })),
    fc.record({ n: fc.nat({ max: 7 }), seed: fc.nat(255) }).map((p) => ({
      block: 'pc.ram',
      addr: BigInt(p.n * PAGE),
      kind: 'compressed' as const,
      data: page(p.seed),
    })),
    fc.constant<SynthPage>({ kind: 'multifd-flush' }),
  );

  test('decode gives the records written and re-encoding is exact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(pageArb, { maxLength: 40 }),
        fc.integer({ min: 7, max: 5000 }),
        async (pages, chunk) => {
          const { b, bytes } = memoryBuilder();
          b.header()
            .configuration({ machineType: 'x' })
            .ramStart(1, blocks)
            .ramPages('part', 1, pages)
            .ramPages('end', 1, [])
            .eof();
          const stream = bytes();
          const seen: RamRecord[] = [];
          // page views last only until the window refills: keep copies
          await contentsOf(
            stream,
            { onRam: (r) => seen.push('data' in r ? { ...r, data: r.data.slice() } : r) },
            chunk,
          );
          const got = seen.filter((r) => r.kind !== 'mem-size' && r.kind !== 'eos');
          expect(got.map((r) => r.kind)).toEqual(pages.map((p) => p.kind));
          got.forEach((r, i) => {
            const p = pages[i];
            if (p.kind !== 'multifd-flush' && 'addr' in r) {
              expect(r.block).toBe(p.block);
              expect(r.addr).toBe(Number(p.addr));
              expect(r.flags & RamFlag.CONTINUE ? 1 : 0).toBe(r.named ? 0 : 1);
            }
            if (p.kind === 'page' && r.kind === 'page')
              expect(Buffer.compare(Buffer.from(r.data), Buffer.from(p.data))).toBe(0);
            if (p.kind === 'zero' && r.kind === 'zero') expect(r.fill).toBe(p.fill ?? 0);
          });
          expect(
            Buffer.compare(
              Buffer.from(await reencodeBytes(stream, {}, chunk)),
              Buffer.from(stream),
            ),
          ).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
