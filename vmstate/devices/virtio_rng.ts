/** virtio-rng (hw/virtio/virtio-rng.c, QOM virtio-rng-device), version 1: nothing of its own. */
import { virtioDevice } from './virtio';

export const virtioRng = virtioDevice('virtio-rng', 1);
