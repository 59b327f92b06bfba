/**
 * virtio-net (hw/net/virtio-net.c, QOM virtio-net-device behind virtio-net-pci): VIRTIO_NET_VM_VERSION
 * 11 in 5.2, 7.2 and 10.0, the device's state in vdc->vmsd (vmstate_virtio_net_device).
 */
import { EqualMismatchError, f, k, RangeCheckError, vmsd } from '../../src/dsl-kit';
import { guestHas, virtioDevice, virtioFacts } from './virtio';

const ETH_ALEN = 6;
/** MAC_TABLE_ENTRIES: a larger table from the source is skipped (mac_table_doesnt_fit). */
const MAC_TABLE_ENTRIES = 64;
/** MAX_VLAN >> 3: the VLAN filter bitmap, sent as a buffer. */
const VLAN_BITMAP_BYTES = (1 << 12) >> 3;
const VIRTIO_NET_RSS_MAX_KEY_SIZE = 40;
const VIRTIO_NET_RSS_MAX_TABLE_LEN = 128;
const VIRTIO_NET_F_CTRL_GUEST_OFFLOADS = 2;

/** The receiver's max_queue_pairs: its queues are 2 per pair and the control queue. */
const pairsOf = (ctx: Parameters<typeof virtioFacts>[0]): number =>
  Math.floor(virtioFacts(ctx).queues / 2);

/**
 * max_queue_pairs > 1: with the control queue (VIRTIO_NET_F_CTRL_VQ, on by default) the device
 * has 2 x max_queue_pairs + 1 queues, and all of them count as in use.
 */
const multiqueue = (ctx: Parameters<typeof virtioFacts>[0]): boolean => pairsOf(ctx) > 1;

/**
 * curr_queue_pairs and, right after it, VMSTATE_WITH_TMP of vmstate_virtio_net_tx_waiting: the
 * tx_waiting of queue pairs 1 to curr_queue_pairs - 1 (pair 0's went with vqs[0] above). The
 * receiver refuses a count of 0 or above its max_queue_pairs.
 */
const currQueuePairs = k.custom<{ pairs: number; tx_waiting: number[] }>({
  type: 'curr_queue_pairs',
  minWireSize: 2,
  check: (v) => {
    const s = v as { pairs: number; tx_waiting: number[] };
    return s &&
      Number.isInteger(s.pairs) &&
      s.pairs >= 1 &&
      s.pairs <= 0xffff &&
      Array.isArray(s.tx_waiting) &&
      s.tx_waiting.length === s.pairs - 1
      ? undefined
      : 'expected {pairs >= 1, tx_waiting: pairs - 1 values}';
  },
  write: (w, v) => {
    w.u16(v.pairs);
    for (const t of v.tx_waiting) w.u32(t);
  },
  read: (r, io) => {
    const at = r.offset;
    const pairs = r.u16();
    const max = pairsOf(io.ctx);
    if (pairs < 1 || pairs > max) io.fail((_, p) => new RangeCheckError(pairs, max, at, p));
    const tx_waiting: number[] = [];
    for (let i = 1; i < pairs; i++) tx_waiting.push(r.u32());
    return { pairs, tx_waiting };
  },
  initial: () => ({ pairs: 1, tx_waiting: [] }),
  arbitrary: (fc) => fc.constant({ pairs: 1, tx_waiting: [] }),
});

/** VMSTATE_SINGLE_TEST of vmstate_info_uint16_equal: must be the receiver's max_queue_pairs. */
const maxQueuePairs = k.custom<number>({
  type: 'uint16 equal',
  wireSize: 2,
  check: (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff
      ? undefined
      : 'expected an integer in 0..65535',
  write: (w, v) => w.u16(v),
  read: (r, io) => {
    const at = r.offset;
    const v = r.u16();
    const mine = pairsOf(io.ctx);
    if (v !== mine) io.fail((_, p) => new EqualMismatchError(v, mine, '', at, p));
    return v;
  },
  initial: () => 1,
  arbitrary: (fc) => fc.constant(1),
});

const macEntry = k.buffer(ETH_ALEN, 'mac');

/** vmstate_virtio_net_rss: sent while RSS is enabled. */
const rss = vmsd({
  name: 'virtio-net-device/rss',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.bool('rss_data.enabled'),
    f.bool('rss_data.redirect'),
    f.bool('rss_data.populate_hash'),
    f.u32('rss_data.hash_types'),
    f.u16('rss_data.indirections_len'),
    f.u16('rss_data.default_queue'),
    f.array('rss_data.key', k.u8, VIRTIO_NET_RSS_MAX_KEY_SIZE),
    f.varray('rss_data.indirections_table', k.u16, {
      count: 'rss_data.indirections_len',
      max: VIRTIO_NET_RSS_MAX_TABLE_LEN,
    }),
  ],
  needed: (s) => s['rss_data.enabled'],
});

export const virtioNetDevice = vmsd({
  name: 'virtio-net-device',
  version_id: 11,
  minimum_version_id: 11,
  fields: [
    f.array('mac', k.u8, ETH_ALEN),
    f.u32('vqs[0].tx_waiting'), // VMSTATE_STRUCT_POINTER of vmstate_virtio_net_queue_tx_waiting
    f.u32('mergeable_rx_bufs'),
    f.u16('status'),
    f.u8('promisc'),
    f.u8('allmulti'),
    f.u32('mac_table.in_use'),
    f.varray(
      'mac_table.macs',
      macEntry,
      { count: 'mac_table.in_use', max: MAC_TABLE_ENTRIES },
      { exists: (s) => (s['mac_table.in_use'] as number) <= MAC_TABLE_ENTRIES },
    ),
    // VMSTATE_UNUSED_VARRAY_UINT32: a table that does not fit is read and thrown away
    f.varray(
      'mac_table.macs_dropped',
      macEntry,
      { count: 'mac_table.in_use', max: 0xffffffff },
      { exists: (s) => (s['mac_table.in_use'] as number) > MAC_TABLE_ENTRIES, as: 'unused' },
    ),
    f.buffer('vlans', VLAN_BITMAP_BYTES),
    f.u32('has_vnet_hdr'), // VMSTATE_WITH_TMP of vmstate_virtio_net_has_vnet
    f.u8('mac_table.multi_overflow'),
    f.u8('mac_table.uni_overflow'),
    f.u8('alluni'),
    f.u8('nomulti'),
    f.u8('nouni'),
    f.u8('nobcast'),
    f.u8('has_ufo'), // VMSTATE_WITH_TMP of vmstate_virtio_net_has_ufo
    f.field('max_queue_pairs', maxQueuePairs, { exists: (_s, _v, ctx) => multiqueue(ctx) }),
    f.field('curr_queue_pairs', currQueuePairs, { exists: (_s, _v, ctx) => multiqueue(ctx) }),
    f.u64('curr_guest_offloads', {
      exists: (_s, _v, ctx) => guestHas(ctx, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS),
    }),
  ],
  subsections: [rss],
});

export const virtioNet = virtioDevice('virtio-net', 11, { vmsd: virtioNetDevice });
