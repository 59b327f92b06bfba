/**
 * A SCSI disk (hw/scsi/scsi-disk.c, QOM scsi-hd; its section is named "scsi-disk"), version 1 in
 * 5.2, 7.2 and 10.0: the SCSIDevice state (hw/scsi/scsi-bus.c) and the removable-media flags.
 */
import { f, k, UnsupportedError, vmsd } from '../../src/dsl-kit';

/** SCSI_SENSE_BUF_SIZE_OLD: the sense bytes the main body carries. */
const SENSE_OLD = 96;
/** SCSI_SENSE_BUF_SIZE: the rest travels in SCSIDevice/sense when the sense is longer. */
const SENSE = 252;

/**
 * vmstate_info_scsi_requests: the device's queued requests, each a byte 1 (retry) or 2, its CDB,
 * tag and LUN, then what the HBA's and the request type's save_request write; a byte 0 ends the
 * list. The per-request parts (virtio-scsi's queue index and element, scsi-disk's sector,
 * counts and data buffer, whose length follows the command's transfer direction) are not
 * modelled: a stream with a queued request is refused, naming it.
 */
const requests = k.custom<[]>({
  type: 'scsi-requests',
  minWireSize: 1,
  check: (v) =>
    Array.isArray(v) && v.length === 0 ? undefined : 'queued SCSI requests are not modelled',
  write: (w) => w.u8(0),
  read: (r, io) => {
    const at = r.offset;
    const tag = r.u8();
    if (tag !== 0)
      io.fail(
        (_, p) =>
          new UnsupportedError(
            `a queued SCSI request (marker ${tag}): its HBA and request parts are not modelled`,
            at,
            p,
          ),
      );
    return [];
  },
  initial: () => [],
  arbitrary: (fc) => fc.constant([] as []),
});

/** vmstate_scsi_device (VMSTATE_SCSI_DEVICE). */
export const scsiDevice = vmsd({
  name: 'SCSIDevice',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.u8('unit_attention.key'),
    f.u8('unit_attention.asc'),
    f.u8('unit_attention.ascq'),
    f.bool('sense_is_ua'),
    f.array('sense', k.u8, SENSE_OLD),
    f.u32('sense_len'),
    f.field('requests', requests),
  ],
  subsections: [
    vmsd({
      name: 'SCSIDevice/sense',
      version_id: 1,
      minimum_version_id: 1,
      fields: [f.array('sense_rest', k.u8, SENSE - SENSE_OLD, { as: 'sense' })],
      // subsections share the parent's state: sense_len is SCSIDevice's
      needed: (s) => ((s as Record<string, unknown>).sense_len as number) > SENSE_OLD,
    }),
  ],
});

export const scsiDisk = vmsd({
  name: 'scsi-disk',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.struct('qdev', scsiDevice),
    f.bool('media_changed'),
    f.bool('media_event'),
    f.bool('eject_request'),
    f.bool('tray_open'),
    f.bool('tray_locked'),
  ],
});
