/**
 * virtio-balloon (hw/virtio/virtio-balloon.c, QOM virtio-balloon-device), version 1: the target
 * and actual page counts in vdc->vmsd, with two subsections the guest's features decide.
 */
import { f, vmsd } from '../../src/dsl-kit';
import { guestHas, virtioDevice } from './virtio';

const VIRTIO_BALLOON_F_FREE_PAGE_HINT = 3;
const VIRTIO_BALLOON_F_PAGE_POISON = 4;

const freePageHint = vmsd({
  name: 'virtio-balloon-device/free-page-report',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u32('free_page_hint_cmd_id'), f.u32('free_page_hint_status')],
  needed: (_s, ctx) => guestHas(ctx, VIRTIO_BALLOON_F_FREE_PAGE_HINT),
});

function pagePoison(name: string) {
  return {
    name,
    version_id: 1,
    minimum_version_id: 1,
    fields: [f.u32('poison_val')],
    subsections: [],
    needed: (_s: unknown, ctx: Parameters<typeof guestHas>[0]) =>
      guestHas(ctx, VIRTIO_BALLOON_F_PAGE_POISON),
  } as const;
}

const deviceFields = [f.u32('num_pages'), f.u32('actual')] as const;

export const virtioBalloonDevice = vmsd({
  name: 'virtio-balloon-device',
  version_id: 1,
  minimum_version_id: 1,
  fields: deviceFields,
  subsections: [freePageHint, vmsd(pagePoison('virtio-balloon-device/page-poison'))],
});

/**
 * 5.2 misspells the page-poison subsection "vitio-balloon-device/page-poison": a name without
 * its parent's prefix, which no receiver (5.2's own included) can load, so a stream carrying it
 * fails at the section footer. Declared as QEMU has it, past the DSL's prefix check.
 */
export const virtioBalloonDeviceV52 = Object.freeze({
  ...virtioBalloonDevice,
  subsections: [freePageHint, Object.freeze(pagePoison('vitio-balloon-device/page-poison'))],
}) as unknown as typeof virtioBalloonDevice;

export const virtioBalloon = virtioDevice('virtio-balloon', 1, { vmsd: virtioBalloonDevice });
export const virtioBalloonV52 = virtioDevice('virtio-balloon', 1, { vmsd: virtioBalloonDeviceV52 });
