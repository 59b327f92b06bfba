/**
 * The audio subsystem's own section (audio/audio.c, vmstate_audio), registered once per
 * -audiodev, without fields. QEMU 5.2 sends it; 7.2 and 10.0 still register it (so they load
 * it from older streams) but with a needed() that is always false, so they never send it.
 */
import { vmsd } from '../../src';

export const audioState = vmsd({
  name: 'audio',
  version_id: 1,
  minimum_version_id: 1,
  fields: [],
});
