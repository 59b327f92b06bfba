/**
 * virtio-scsi (hw/scsi/virtio-scsi.c, QOM virtio-scsi-device behind virtio-scsi-pci), version 1
 * in 5.2, 7.2 and 10.0: no vdc->save and no vdc->vmsd. Its pending requests travel with each
 * SCSI device's own section (scsi-disk's `requests`).
 */
import { virtioDevice } from './virtio';

export const virtioScsi = virtioDevice('virtio-scsi', 1);
