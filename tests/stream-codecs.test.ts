import { MalformedError } from '../src/errors';
import { codecOf, type CodecResolver, type SectionCodec } from '../src/stream/section';
import { readStream } from './fixtures/qemu-streams';
import {
  contentsOf,
  memoryBuilder,
  reencodeBytes,
  transformBytes,
} from './fixtures/stream-helpers';

/** A hand-written codec for QEMU's `timer` section (int64, 8 unused bytes, int64), as a catalog would supply. */
interface Timer {
  ticks: bigint;
  unused: Uint8Array;
  clock: bigint;
}
const timerCodec: SectionCodec<Timer> = {
  name: 'catalog',
  decode: (r) => ({ ticks: r.i64(), unused: r.bytesCopy(8), clock: r.i64() }),
  encode: (w, v) => {
    w.i64(v.ticks);
    w.bytes(v.unused);
    w.i64(v.clock);
  },
};
const timerResolver: CodecResolver = (s, kind) =>
  s.idstr === 'timer' && kind === 'full' ? timerCodec : undefined;

describe('pluggable section decoders', () => {
  const bytes = readStream('pc-nodefaults-running');

  test('a resolver decodes the sections the vmdesc does not describe (here: a stream without vmdesc)', async () => {
    const c0 = await contentsOf(bytes);
    const stripped = bytes.subarray(0, c0.eof!.offset + 1);
    const c = await contentsOf(stripped, { resolvers: [timerResolver] });
    const timer = c.entries.find((e) => e.type === 'section' && e.section.idstr === 'timer');
    if (timer?.type !== 'section') throw new Error('no timer');
    expect(timer.section.decodedBy).toBe('catalog');
    expect((timer.section.value as Timer).ticks).not.toBe(0n); // the running stream's cpu_ticks_offset
    const others = c.entries.flatMap((e) =>
      e.type === 'section' && e.section.idstr !== 'timer' ? [e.section] : [],
    );
    expect(others.every((s) => s.decodedBy === 'opaque')).toBe(true);
  });

  test('preferResolvers puts them before the vmdesc; edited values are written with their encoder', async () => {
    const edited = await transformBytes(
      bytes,
      (r) => {
        if (r.type === 'section' && r.section.idstr === 'timer') {
          expect(r.section.decodedBy).toBe('catalog');
          (r.section.value as Timer).clock = 0x1122334455667788n;
          r.section.modified = true;
        }
        return r;
      },
      { resolvers: [timerResolver], preferResolvers: true },
    );
    const c = await contentsOf(edited);
    const timer = c.entries.find((e) => e.type === 'section' && e.section.idstr === 'timer');
    if (timer?.type !== 'section') throw new Error('no timer');
    expect(timer.section.decodedBy).toBe('vmdesc');
    expect(timer.section.body.subarray(16)).toEqual(
      Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88),
    );
  });

  test('a bare decode function works too; an edited section without an encoder is refused', async () => {
    const resolver: CodecResolver = (s) =>
      s.idstr === 'timer' ? codecOf('fn', (r) => r.bytesCopy(24)) : undefined;
    await expect(
      transformBytes(
        bytes,
        (r) => {
          if (r.type === 'section' && r.section.decodedBy === 'fn') r.section.modified = true;
          return r;
        },
        { resolvers: [resolver], preferResolvers: true },
      ),
    ).rejects.toThrow(/cannot encode/);
  });

  test('a decoder that consumes too little is caught by the footer check', async () => {
    const short: CodecResolver = (s) =>
      s.idstr === 'timer' ? codecOf('short', (r) => r.bytesCopy(16)) : undefined;
    await expect(
      contentsOf(bytes, { resolvers: [short], preferResolvers: true }),
    ).rejects.toBeInstanceOf(MalformedError);
  });

  test('RAM blocks with a postcopy page size are recognised and re-encoded', async () => {
    const { b, bytes: out } = memoryBuilder();
    b.header().configuration({ machineType: 'm' });
    b.ramStart(1, [
      { name: 'pc.ram', length: 0x400000n, pageSize: 0x200000n },
      { name: 'small', length: 0x1000n },
      { name: 'last', length: 0x200000n, pageSize: 0x200000n },
    ]);
    b.ramPages('end', 1, [{ block: 'last', addr: 0x1000n, kind: 'zero' }]).eof();
    const stream = out();
    const c = await contentsOf(stream);
    expect(c.ram.blocks.map((x) => x.pageSize)).toEqual([0x200000n, undefined, 0x200000n]);
    expect(Buffer.compare(Buffer.from(await reencodeBytes(stream)), Buffer.from(stream))).toBe(0);
  });
});
