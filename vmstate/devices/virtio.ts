/**
 * A virtio device behind a virtio-pci proxy, as VMSTATE_VIRTIO_DEVICE carries it
 * (hw/virtio/virtio.c virtio_save / virtio_load, hw/virtio/virtio-pci.c). The section's only
 * field, `virtio`, is a hand-written VMStateInfo, so QEMU's VM description says just
 * `{"name": "virtio", "type": "virtio", "size": N}` and the analyzer shows its bytes; its wire
 * layout is modelled here exactly, in this order:
 *
 * 1. the proxy's save_config: the PCIDevice, the MSI-X table and PBA, the config vector;
 * 2. status, isr, queue_sel, the low 32 feature bits, the config space (be32 length), the
 *    queues in use (be32 count) with their size, descriptor address, last_avail_idx and, with
 *    MSI-X, the vector (virtio_pci_save_queue);
 * 3. the device's own part: vdc->save (raw writes) and/or vdc->vmsd (with its subsections);
 * 4. vmstate_virtio, a description with no fields whose subsections follow.
 *
 * Nothing on the wire says how many MSI-X vectors the proxy has, or whether it is a modern
 * device: QEMU's receiver knows its own. Here both are read from the config space just sent (the
 * MSI-X capability's Table Size, the virtio vendor capabilities), which states the same. The
 * device parts see what they need of the earlier parts through the ctx (`VirtioFacts`: MSI-X
 * present, queues in use, guest features), as QEMU's field tests read them from the VirtIODevice.
 */
import {
  f,
  initialState,
  InvalidValueError,
  k,
  loadFrom,
  saveInto,
  vmsd,
  type AnyVMSDesc,
  type ByteReader,
  type ByteWriter,
  type Ctx,
  type Kind,
  type KindIO,
  type State,
} from '../../src/dsl-kit';
import { msixState, withInitial, type MsixState } from './kinds';
import { propOn } from './machine-ctx';
import { pciDevice } from './pci';

/** VIRTIO_QUEUE_MAX: the queue arrays of the subsections always have this many entries. */
export const VIRTIO_QUEUE_MAX = 1024;
/** VIRTIO_DEVICE_ENDIAN_LITTLE: what a device conforming to VIRTIO 1.0 always is, and x86's default. */
const DEVICE_ENDIAN_LITTLE = 1;
/** sizeof(VirtQueueElementOld) on x86-64: index, out_num, in_num, 4 bytes padding, 2 x 1024 hwaddr, 2 x 1024 iovec. */
export const VIRTQUEUE_ELEMENT_OLD_SIZE = 16 + 2 * 1024 * 8 + 2 * 1024 * 16;

/** What the device parts learn from the parts before them (QEMU reads these from its VirtIODevice). */
export interface VirtioFacts {
  /** The proxy is a modern device (its config space has the virtio vendor capabilities). */
  readonly modern: boolean;
  /** The release has the queue_reset property (VirtioRelease). */
  readonly queueReset: boolean;
  /** The proxy has MSI-X (msix_present): queue vectors travel. */
  readonly msix: boolean;
  /** The queues in use (vring.num != 0), as the stream counts them. */
  readonly queues: number;
  /** The guest's feature bits as far as they are known at this point (the low 32 before vmstate_virtio). */
  readonly guestFeatures: bigint;
}

export function virtioFacts(ctx: Ctx): VirtioFacts {
  return (
    (ctx as { virtio?: VirtioFacts }).virtio ?? {
      modern: false,
      queueReset: false,
      msix: false,
      queues: 0,
      guestFeatures: 0n,
    }
  );
}

/** Whether the guest acknowledged feature bit `bit` (virtio_vdev_has_feature). */
export function guestHas(ctx: Ctx, bit: number): boolean {
  return ((virtioFacts(ctx).guestFeatures >> BigInt(bit)) & 1n) === 1n;
}

/**
 * The proxy is a modern (VIRTIO 1.0) device, so VIRTIO_F_VERSION_1 is among its host features and
 * virtio_pci_modern() holds: read from its config space, which has the virtio vendor capabilities
 * then (disable-modern=off, the default of every machine type from 2.7 on).
 */
export const virtioModern = (ctx: Ctx): boolean => virtioFacts(ctx).modern;

/** VIRTIO_F_RING_PACKED among the host features: the `packed` property of virtio devices (off by default). */
const packedRing = (ctx: Ctx): boolean => propOn(ctx, 'virtio-device.packed', false);

/**
 * qemu_put_virtqueue_element: an element a device had popped and not completed (pending block
 * requests, a serial port's element). `data` is VirtQueueElementOld as the host lays it out
 * (little-endian on x86-64), written whole by qemu_put_buffer.
 */
export const virtqueueElement = vmsd({
  name: 'VirtQueueElement',
  version_id: 1,
  fields: [
    f.u32('ndescs', { exists: (_s, _v, ctx) => packedRing(ctx) }),
    f.buffer('data', VIRTQUEUE_ELEMENT_OLD_SIZE),
  ],
});

/** One queue in use: virtio_save's loop and virtio_pci_save_queue. */
const queue = vmsd({
  name: 'virtio-queue',
  version_id: 1,
  fields: [
    f.u32('vring.num'),
    f.u64('vring.desc'),
    f.u16('last_avail_idx'),
    f.u16('vector', { exists: (_s, _v, ctx) => virtioFacts(ctx).msix }),
  ],
});

/** virtio_save from the device status to the queues. */
const core = vmsd({
  name: 'virtio-core',
  version_id: 1,
  fields: [
    f.u8('status'),
    f.u8('isr'),
    f.u16('queue_sel'),
    f.u32('guest_features_lo'),
    f.u32('config_len'),
    f.vbuffer('config', { size: 'config_len', max: 0x10000 }),
    f.u32('num_queues'),
    f.varray('vq', k.struct(queue), { count: 'num_queues', max: VIRTIO_QUEUE_MAX }),
  ],
});

const virtqueueState = vmsd({
  name: 'virtqueue_state',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u64('vring.avail'), f.u64('vring.used')],
});

/**
 * vmstate_ringsize's num_default for every queue, or null: the receiver keeps its own default
 * sizes, which equal the queues' sizes (QEMU sends the subsection only when one differs).
 */
const ringSizes: Kind<number[] | null> = k.custom<number[] | null>({
  type: 'ringsize',
  wireSize: VIRTIO_QUEUE_MAX * 4,
  check: (v) =>
    v === null || (Array.isArray(v) && v.length === VIRTIO_QUEUE_MAX)
      ? undefined
      : `expected null or ${VIRTIO_QUEUE_MAX} queue sizes`,
  write: (w, v) => {
    for (let i = 0; i < VIRTIO_QUEUE_MAX; i++) w.u32(v?.[i] ?? 0);
  },
  read: (r) => Array.from({ length: VIRTIO_QUEUE_MAX }, () => r.u32()),
  initial: () => null,
  arbitrary: (fc) => fc.constant(null),
});

const packedVirtqueueState = vmsd({
  name: 'packed_virtqueue_state',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.u16('last_avail_idx'),
    f.bool('last_avail_wrap_counter'),
    f.u16('used_idx'),
    f.bool('used_wrap_counter'),
    f.u32('inuse'),
  ],
});

/** vmstate_virtio_pci_modern_queue_state. */
const modernQueueState = vmsd({
  name: 'virtio_pci/modern_queue_state',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.u16('num'),
    f.unused(1), // enabled was stored as be16
    f.bool('enabled'),
    f.array('desc', k.u32, 2),
    f.array('avail', k.u32, 2),
    f.array('used', k.u32, 2),
  ],
});

/** vmstate_virtio_pci: the proxy's extra state (virtio_pci_save_extra_state). */
const virtioPci = vmsd({
  name: 'virtio_pci',
  version_id: 1,
  minimum_version_id: 1,
  fields: [],
  subsections: [
    vmsd({
      name: 'virtio_pci/modern_state',
      version_id: 1,
      minimum_version_id: 1,
      needed: (_s, ctx) => virtioModern(ctx),
      fields: [
        f.u32('dfselect'),
        f.u32('gfselect'),
        f.array('guest_features', k.u32, 2),
        f.structArray('vqs', modernQueueState, VIRTIO_QUEUE_MAX),
      ],
    }),
  ],
});

/** vmstate_virtio: no fields, its subsections in QEMU's order (the same in 5.2, 7.2 and 10.0). */
const virtioSubsections = vmsd({
  name: 'virtio',
  version_id: 1,
  minimum_version_id: 1,
  fields: [],
  subsections: [
    vmsd({
      name: 'virtio/device_endian',
      version_id: 1,
      minimum_version_id: 1,
      fields: [f.field('device_endian', withInitial(k.u8, DEVICE_ENDIAN_LITTLE))],
      needed: (s) => s.device_endian !== DEVICE_ENDIAN_LITTLE,
    }),
    vmsd({
      name: 'virtio/64bit_features',
      version_id: 1,
      minimum_version_id: 1,
      fields: [f.u64('guest_features')],
      // host_features >> 32 != 0: VIRTIO_F_VERSION_1 (bit 32) on a modern device; in releases
      // with queue_reset, VIRTIO_F_RING_RESET (bit 40, on from machine type 7.2) on legacy ones
      // too; and whatever high bit the guest acknowledged.
      needed: (s, ctx) =>
        virtioModern(ctx) ||
        (virtioFacts(ctx).queueReset && propOn(ctx, 'virtio-device.queue_reset', true)) ||
        s.guest_features >> 32n !== 0n,
    }),
    vmsd({
      name: 'virtio/virtqueues',
      version_id: 1,
      minimum_version_id: 1,
      fields: [f.structArray('vq_rings', virtqueueState, VIRTIO_QUEUE_MAX, { as: 'vq' })],
      needed: (_s, ctx) => virtioModern(ctx), // host feature VIRTIO_F_VERSION_1
    }),
    vmsd({
      name: 'virtio/ringsize',
      version_id: 1,
      minimum_version_id: 1,
      fields: [f.field('num_default', ringSizes, { as: 'vq' })],
      needed: (s) => s.num_default !== null,
    }),
    vmsd({
      name: 'virtio/broken',
      version_id: 1,
      minimum_version_id: 1,
      fields: [f.bool('broken')],
      needed: (s) => s.broken,
    }),
    vmsd({
      name: 'virtio/extra_state',
      version_id: 1,
      minimum_version_id: 1,
      fields: [f.struct('extra_state', virtioPci)],
      // virtio_pci_has_extra_state: the migrate-extra property (off for machine types 2.4 and older)
      needed: (_s, ctx) => propOn(ctx, 'virtio-pci.migrate-extra', true),
    }),
    vmsd({
      name: 'virtio/started',
      version_id: 1,
      minimum_version_id: 1,
      fields: [f.bool('started')],
      needed: (s) => s.started,
    }),
    vmsd({
      name: 'virtio/packed_virtqueues',
      version_id: 1,
      minimum_version_id: 1,
      fields: [f.structArray('packed_vq', packedVirtqueueState, VIRTIO_QUEUE_MAX, { as: 'vq' })],
      needed: (_s, ctx) => packedRing(ctx),
    }),
    vmsd({
      name: 'virtio/disabled',
      version_id: 1,
      minimum_version_id: 1,
      fields: [f.bool('disabled')],
      needed: (s) => s.disabled,
    }),
  ],
});

/** The device's own part, between the queues and vmstate_virtio. */
export interface VirtioDevicePart {
  /** vdc->save / vdc->load: raw writes, declared as a description without subsections. */
  readonly save?: AnyVMSDesc;
  /** vdc->vmsd: the device's description, saved and loaded at its own version with its subsections. */
  readonly vmsd?: AnyVMSDesc;
}

/** The value of a `virtio` field: each part's state. */
export interface VirtioState {
  /** The proxy's PCI function (vmstate_pci_device). */
  pci: State;
  /** The MSI-X table and PBA, or null without MSI-X. */
  msix: MsixState | null;
  /** The config vector (with MSI-X only). */
  config_vector: number;
  /** Status to queues. */
  core: State;
  /** vdc->save's state. */
  save: State;
  /** vdc->vmsd's state. */
  device: State;
  /** vmstate_virtio's subsections. */
  virtio: State;
}

const MSIX_CAP_ID = 0x11;
const VENDOR_CAP_ID = 0x09;
const PCI_CAPABILITY_LIST = 0x34;

/** The offsets of a config space's capabilities (the list walked at most 48 steps, as Linux does). */
function capabilities(config: Uint8Array): number[] {
  const out: number[] = [];
  let ptr = config[PCI_CAPABILITY_LIST]! & 0xfc;
  for (let steps = 0; ptr >= 0x40 && ptr + 3 < config.length && steps < 48; steps++) {
    out.push(ptr);
    ptr = config[ptr + 1]! & 0xfc;
  }
  return out;
}

/** The Table Size of the config space's MSI-X capability, or 0 without one. */
export function msixVectorsOf(config: Uint8Array): number {
  const at = capabilities(config).find((c) => config[c] === MSIX_CAP_ID);
  return at === undefined ? 0 : ((config[at + 2]! | (config[at + 3]! << 8)) & 0x7ff) + 1;
}

/** Whether the config space has virtio's vendor capabilities (cfg_type 1..5: common, notify, ISR, device, PCI cfg). */
export function virtioModernOf(config: Uint8Array): boolean {
  return capabilities(config).some(
    (c) => config[c] === VENDOR_CAP_ID && config[c + 3]! >= 1 && config[c + 3]! <= 5,
  );
}

const PCI_DEVICE_VERSION = 2;

function withFacts(ctx: Ctx, facts: VirtioFacts): Ctx {
  return { ...ctx, virtio: facts };
}

function readVirtio(
  part: VirtioDevicePart,
  release: VirtioRelease,
  r: ByteReader,
  io: KindIO,
): VirtioState {
  const path = io.where();
  const ctx = io.ctx;
  const pci = loadFrom(r, pciDevice, PCI_DEVICE_VERSION, { ctx, path: `${path} > proxy` });
  const vectors = msixVectorsOf(pci.config as Uint8Array);
  const msix = vectors > 0 ? msixState(vectors).read(r, io, undefined) : null;
  const config_vector = vectors > 0 ? r.u16() : 0;
  const modern = virtioModernOf(pci.config as Uint8Array);
  const facts = { ...release, modern, msix: vectors > 0, queues: 0, guestFeatures: 0n };
  const head = loadFrom(r, core, 1, { ctx: withFacts(ctx, facts), path });
  const known = withFacts(ctx, {
    ...facts,
    queues: head.num_queues as number,
    guestFeatures: BigInt(head.guest_features_lo as number),
  });
  const save = part.save ? loadFrom(r, part.save, part.save.version_id, { ctx: known, path }) : {};
  const device = part.vmsd
    ? loadFrom(r, part.vmsd, part.vmsd.version_id, { ctx: known, path })
    : {};
  const virtio = loadFrom(r, virtioSubsections, 1, { ctx: known, path });
  return { pci, msix, config_vector, core: head, save, device, virtio };
}

function writeVirtio(
  part: VirtioDevicePart,
  release: VirtioRelease,
  w: ByteWriter,
  v: VirtioState,
  io: KindIO,
): void {
  const ctx = io.ctx;
  saveInto(w, pciDevice, v.pci, { ctx });
  const vectors = msixVectorsOf(v.pci.config as Uint8Array);
  if (vectors > 0 !== (v.msix !== null))
    io.fail(
      (o, p) =>
        new InvalidValueError(
          `the config space's MSI-X capability says ${vectors} vector(s), the state ${v.msix ? 'has' : 'has no'} MSI-X table`,
          o,
          p,
        ),
    );
  if (v.msix) {
    msixState(vectors).write(w, v.msix, io);
    w.u16(v.config_vector);
  }
  const lo = BigInt(v.core.guest_features_lo as number);
  const high = BigInt((v.virtio.guest_features as bigint | undefined) ?? 0n) & ~0xffffffffn;
  const facts = {
    ...release,
    modern: virtioModernOf(v.pci.config as Uint8Array),
    msix: v.msix !== null,
    queues: v.core.num_queues as number,
    guestFeatures: high | lo,
  };
  const known = withFacts(ctx, facts);
  saveInto(w, core, v.core, { ctx: known });
  if (part.save) saveInto(w, part.save, v.save, { ctx: known });
  if (part.vmsd) saveInto(w, part.vmsd, v.device, { ctx: known });
  saveInto(w, virtioSubsections, v.virtio, { ctx: known });
}

function initialVirtio(part: VirtioDevicePart): VirtioState {
  return {
    pci: initialState(pciDevice) as State,
    msix: null,
    config_vector: 0,
    core: initialState(core) as State,
    save: part.save ? (initialState(part.save) as State) : {},
    device: part.vmsd ? (initialState(part.vmsd) as State) : {},
    virtio: initialState(virtioSubsections) as State,
  };
}

/** The `virtio` field's kind for one device (VMSTATE_VIRTIO_DEVICE, virtio_vmstate_info). */
export function virtioKind(
  part: VirtioDevicePart,
  release: VirtioRelease = VIRTIO_7_2,
): Kind<VirtioState> & { readonly part: VirtioDevicePart } {
  const kind = k.custom<VirtioState>({
    type: 'virtio',
    minWireSize: 4 + 256 + 16 + 12 + 4,
    check: (v) =>
      v !== null && typeof v === 'object' && 'pci' in v && 'core' in v && 'virtio' in v
        ? undefined
        : 'expected a virtio device state {pci, msix, config_vector, core, save, device, virtio}',
    read: (r, io) => readVirtio(part, release, r, io),
    write: (w, v, io) => writeVirtio(part, release, w, v, io),
    initial: () => initialVirtio(part),
    // A device that was never set up (no MSI-X, no queues): generated states keep the layout consistent.
    arbitrary: (fc) => fc.constant(null).map(() => initialVirtio(part)),
  });
  return { ...kind, part };
}

/** How a release treats virtio devices beyond their descriptions. */
export interface VirtioRelease {
  /**
   * Every virtio device has the queue_reset property (VIRTIO_F_RING_RESET, bit 40 of the host
   * features; off for machine types 7.1 and older): 7.2 and 10.0 do, 5.2 does not. It makes a
   * legacy device (disable-modern=on) send 64bit_features, as real 7.2 and 10.0 streams show.
   */
  readonly queueReset: boolean;
}

export const VIRTIO_7_2: VirtioRelease = { queueReset: true };
export const VIRTIO_5_2: VirtioRelease = { queueReset: false };

/**
 * A virtio device's section: QEMU's vmstate_virtio_<device>, whose one field is
 * VMSTATE_VIRTIO_DEVICE (version and minimum version alike, as every virtio device declares them).
 */
export function virtioDevice<const N extends string>(
  name: N,
  version: number,
  part: VirtioDevicePart = {},
  release: VirtioRelease = VIRTIO_7_2,
) {
  return vmsd({
    name,
    version_id: version,
    minimum_version_id: version,
    fields: [f.field('virtio', virtioKind(part, release))],
  });
}

/** The same virtio device's section as `release` sends it. */
export function virtioIn(desc: ReturnType<typeof virtioDevice>, release: VirtioRelease) {
  const kind = desc.fields[0].kind as unknown as { part: VirtioDevicePart };
  return virtioDevice(desc.name, desc.version_id, kind.part, release);
}
