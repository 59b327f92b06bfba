/**
 * virtio-blk (hw/block/virtio-blk.c, QOM virtio-blk-device behind virtio-blk-pci), version 2 in
 * 5.2, 7.2 and 10.0: vdc->save writes the pending requests, each a byte 1, the queue index when
 * the device has more than one queue, and the popped element; a byte 0 ends the list.
 */
import {
  k,
  f,
  vmsd,
  InvalidValueError,
  type ByteReader,
  type ByteWriter,
  type KindIO,
  type State,
} from '../../src/dsl-kit';
import { virtioDevice, virtioFacts, virtqueueElement } from './virtio';

interface PendingRequest {
  /** The queue the request came from (on the wire only with more than one queue). */
  vq: number;
  elem: State;
}

function readRequests(r: ByteReader, io: KindIO): PendingRequest[] {
  const out: PendingRequest[] = [];
  const multi = virtioFacts(io.ctx).queues > 1;
  for (;;) {
    const at = r.offset;
    const more = r.i8();
    if (more === 0) return out;
    if (more !== 1)
      io.fail((_, p) => new InvalidValueError(`request marker ${more}: expected 0 or 1`, at, p));
    const vq = multi ? r.u32() : 0;
    out.push({ vq, elem: io.loadNested(r, virtqueueElement, undefined, `rq[${out.length}]`) });
  }
}

function writeRequests(w: ByteWriter, v: PendingRequest[], io: KindIO): void {
  const multi = virtioFacts(io.ctx).queues > 1;
  for (const req of v) {
    w.u8(1);
    if (multi) w.u32(req.vq);
    io.saveNested(w, virtqueueElement, req.elem, 'rq');
  }
  w.u8(0);
}

const requests = k.custom<PendingRequest[]>({
  type: 'virtio-blk requests',
  minWireSize: 1,
  check: (v) => (Array.isArray(v) ? undefined : 'expected a list of pending requests'),
  read: readRequests,
  write: writeRequests,
  initial: () => [],
  arbitrary: (fc) => fc.constant([]),
});

/** virtio_blk_save_device / virtio_blk_load_device. */
export const virtioBlkSave = vmsd({
  name: 'virtio-blk-device',
  version_id: 2,
  fields: [f.field('rq', requests)],
});

export const virtioBlk = virtioDevice('virtio-blk', 2, { save: virtioBlkSave });
