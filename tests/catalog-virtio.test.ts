/**
 * The virtio wire codec (vmstate/devices/virtio.ts) on sections of a real 7.2 device-rich stream:
 * what its needed() and field tests send when the state says so, 5.2's misspelt balloon
 * subsection, the MSI-X vector count from the config space, and hostile bodies (every cut is a
 * typed truncation, corrupted bytes give a state or a typed error).
 */
import * as fc from 'fast-check';
import { VMStateError, TruncatedError, type State } from '../src';
import { readStreamContents } from '../src/stream/collect';
import { bytesSource } from '../src/stream/source';
import { ByteReader } from '../src/bytes/reader';
import {
  catalogCtx,
  catalogOf,
  catalogResolver,
  loadSection,
  saveSection,
  type Catalog,
} from '../vmstate/catalog';
import { msixVectorsOf, type VirtioState } from '../vmstate/devices/virtio';
import { committedStreams, streamBytes } from './fixtures/release-streams';

const stream = committedStreams(['7.2']).find((s) => s.stem === 'q35-7.2-rich-max')!;
let catalog: Catalog;
/** Section name -> [body, version] of the stream's virtio and SCSI disk sections. */
const bodies = new Map<string, { body: Uint8Array; version: number }>();

beforeAll(async () => {
  catalog = catalogOf('7.2', stream.machineType);
  const bytes = streamBytes(stream);
  const contents = await readStreamContents(bytesSource(bytes), {
    resolvers: [catalogResolver(catalog, catalogCtx(catalog))],
  });
  for (const e of contents.entries)
    if (e.type === 'section' && e.section.kind === 'full') {
      const name = e.section.idstr.slice(e.section.idstr.lastIndexOf('/') + 1);
      bodies.set(name, { body: e.section.body, version: e.section.versionId });
    }
});

function load(name: string, body = bodies.get(name)!.body, cat = catalog): State {
  const entry = cat.lookup(name)!;
  return loadSection(entry, new ByteReader(body, 0), bodies.get(name)!.version, catalogCtx(cat));
}

function save(name: string, state: State, cat = catalog): Uint8Array {
  return saveSection(cat.lookup(name)!, state, catalogCtx(cat)).bytes;
}

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

test('every virtio section and the SCSI disk read and write back as sent', () => {
  for (const name of [
    'virtio-net',
    'virtio-blk',
    'virtio-scsi',
    'scsi-disk',
    'virtio-balloon',
    'virtio-rng',
    'virtio-console',
  ]) {
    const { body } = bodies.get(name)!;
    expect([name, Buffer.from(save(name, load(name))).equals(Buffer.from(body))]).toEqual([
      name,
      true,
    ]);
  }
});

test('the MSI-X vector count comes from the config space: virtio-net-pci on pc-q35-7.2 has 4', () => {
  const v = load('virtio-net').virtio as VirtioState;
  expect(msixVectorsOf(v.pci.config as Uint8Array)).toBe(4);
  expect(v.msix!.table.length).toBe(4 * 16);
  expect(msixVectorsOf(new Uint8Array(256))).toBe(0);
});

test('a started, broken device sends virtio/started and virtio/broken, and they load back', () => {
  const state = load('virtio-rng');
  const v = state.virtio as VirtioState;
  v.virtio.started = true;
  v.virtio.broken = true;
  const bytes = save('virtio-rng', state);
  expect(latin1(bytes)).toContain('virtio/started');
  expect(latin1(bytes)).toContain('virtio/broken');
  expect(latin1(bodies.get('virtio-rng')!.body)).not.toContain('virtio/started');
  const back = load('virtio-rng', bytes).virtio as VirtioState;
  expect([back.virtio.started, back.virtio.broken]).toEqual([true, true]);
});

test('virtio-net: a guest with VIRTIO_NET_F_CTRL_GUEST_OFFLOADS sends curr_guest_offloads (8 bytes more)', () => {
  const state = load('virtio-net');
  const v = state.virtio as VirtioState;
  v.core.guest_features_lo = 1 << 2;
  v.device.curr_guest_offloads = 0x1234n;
  const bytes = save('virtio-net', state);
  expect(bytes.length).toBe(bodies.get('virtio-net')!.body.length + 8);
  expect((load('virtio-net', bytes).virtio as VirtioState).device.curr_guest_offloads).toBe(
    0x1234n,
  );
});

test("balloon page poisoning: 7.2's subsection loads back; 5.2's misspelt one cannot be loaded", () => {
  const state = load('virtio-balloon');
  const v = state.virtio as VirtioState;
  v.core.guest_features_lo = 1 << 4; // VIRTIO_BALLOON_F_PAGE_POISON
  v.device.poison_val = 0xaa;
  const ok = save('virtio-balloon', state);
  expect(latin1(ok)).toContain('virtio-balloon-device/page-poison');
  expect((load('virtio-balloon', ok).virtio as VirtioState).device.poison_val).toBe(0xaa);

  const c52 = catalogOf('5.2', 'pc-q35-5.2');
  const bad = save('virtio-balloon', state, c52);
  expect(latin1(bad)).toContain('vitio-balloon-device/page-poison');
  // Neither the device's nor vmstate_virtio's prefix: the load stops short of the section's end.
  const entry = c52.lookup('virtio-balloon')!;
  const r = new ByteReader(bad, 0);
  loadSection(entry, r, 1, catalogCtx(c52));
  expect(r.offset).toBeLessThan(bad.length);
});

test('every cut of a virtio body is a typed truncation', () => {
  const { body, version } = bodies.get('virtio-console')!;
  const entry = catalog.lookup('virtio-console')!;
  const ctx = catalogCtx(catalog);
  for (let n = 0; n < body.length; n += n < 600 ? 1 : 97) {
    expect(() => loadSection(entry, new ByteReader(body.subarray(0, n), 0), version, ctx)).toThrow(
      TruncatedError,
    );
  }
});

test('corrupted virtio bodies give a state or a typed error, never anything else', () => {
  const { body, version } = bodies.get('virtio-net')!;
  const entry = catalog.lookup('virtio-net')!;
  const ctx = catalogCtx(catalog);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(body.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }),
      (flips) => {
        const b = body.slice();
        for (const [at, v] of flips) b[at] = v;
        try {
          loadSection(entry, new ByteReader(b, 0), version, ctx);
        } catch (e) {
          if (!(e instanceof VMStateError)) throw e;
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('virtio-net with two queue pairs: max_queue_pairs (checked against the queues) and curr_queue_pairs travel', () => {
  const state = load('virtio-net');
  const v = state.virtio as VirtioState;
  const vq = v.core.vq as State[];
  // rx0, tx0, ctrl -> rx0, tx0, rx1, tx1, ctrl
  v.core.vq = [vq[0]!, vq[1]!, { ...vq[0]! }, { ...vq[1]! }, vq[2]!];
  v.core.num_queues = 5;
  v.device.max_queue_pairs = 2;
  v.device.curr_queue_pairs = { pairs: 2, tx_waiting: [7] };
  const bytes = save('virtio-net', state);
  const back = load('virtio-net', bytes).virtio as VirtioState;
  expect(back.device.max_queue_pairs).toBe(2);
  expect(back.device.curr_queue_pairs).toEqual({ pairs: 2, tx_waiting: [7] });
  // A source with another max_queue_pairs than the receiver's queues say is refused.
  v.device.max_queue_pairs = 3;
  expect(() => load('virtio-net', save('virtio-net', state))).toThrow(VMStateError);
});
