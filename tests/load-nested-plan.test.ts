/**
 * A load a kind starts inside another load's plan (virtio's parts, read by loadFrom from the
 * virtio kind) is not interpreted there when its plan gives up: the outer load interprets it
 * again anyway. The outcome must be what the interpreter from the top gives (the old path: on any
 * failure the outer plan handed the whole body to the interpreter), on cut and whole bodies of
 * every virtio device of real rich streams: the same error class, message, offset and path, or
 * the same state.
 */
import { peekMachineType } from '../src/analyze/catalog-vmdesc';
import { ByteReader } from '../src/bytes/reader';
import { loadInterpreted } from '../src/engine/load';
import { readStreamContents } from '../src/stream/collect';
import { sectionPath } from '../src/stream/section';
import { bytesSource } from '../src/stream/source';
import { catalogCtx, catalogOf, catalogResolver } from '../vmstate/catalog';
import { loadSeed, rng, seedName, seedStreamFiles } from './fuzz/inputs';

const outcome = (f: () => unknown) => {
  try {
    return { ok: f() };
  } catch (e) {
    const x = e as Error & { offset?: number; path?: string };
    return { error: x.constructor.name, message: x.message, offset: x.offset, path: x.path };
  }
};

test.each([
  ['qemu-5.2', 'qemu-5.2/pc-5.2-rich-max'],
  ['qemu-7.2', 'qemu-7.2/q35-7.2-rich-svm'],
  ['qemu-10.0', 'qemu-10.0/pc-10.0-rich-max'],
])(
  '%s: virtio sections cut anywhere load as the interpreter from the top loads them',
  async (dir, name) => {
    const file = seedStreamFiles().find((f) => seedName(f) === name)!;
    const s = await loadSeed(file);
    const contents = await readStreamContents(bytesSource(s.bytes));
    const catalog = catalogOf(
      dir.replace('qemu-', ''),
      await peekMachineType(bytesSource(s.bytes)),
    );
    const ctx = catalogCtx(catalog);
    const resolve = catalogResolver(catalog, ctx);
    const r = rng(0x7e57);
    let virtio = 0;
    for (const e of contents.entries) {
      if (e.type !== 'section' || !/virtio/.test(e.section.idstr)) continue;
      const sec = e.section;
      const entry = catalog.lookup(sec.idstr)!;
      const codec = resolve(sec, 'full')!;
      expect(entry).toBeDefined();
      virtio++;
      const body = sec.body;
      const cuts = [
        body.length,
        ...Array.from({ length: 60 }, () => Math.floor(r() * body.length)),
      ];
      for (const n of cuts) {
        const bytes = body.subarray(0, n);
        const viaPlan = outcome(() => codec.decode(new ByteReader(bytes, sec.bodyOffset), sec));
        const interpreted = outcome(() =>
          loadInterpreted(new ByteReader(bytes, sec.bodyOffset), entry.desc, sec.versionId, {
            ctx,
            path: sectionPath(sec),
            into: entry.receiverState?.(ctx),
          }),
        );
        expect({ section: sec.idstr, n, viaPlan }).toEqual({
          section: sec.idstr,
          n,
          viaPlan: interpreted,
        });
        if (n < body.length) expect(viaPlan).toHaveProperty('error');
      }
    }
    expect(virtio).toBeGreaterThanOrEqual(5);
  },
  120_000,
);
