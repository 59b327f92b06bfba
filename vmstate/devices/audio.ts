/**
 * The audio subsystem's own section (audio/audio.c vmstate_audio, "audio"): no fields, registered
 * by audio_init once an audio device exists. Until 6.1 it was always sent; since 6.2 its needed()
 * is false ("only exists in case an old qemu sends it to us"), so 7.2 and 10.0 never send it.
 */
import { vmsd } from '../../src/dsl-kit';

export const audioV52 = vmsd({ name: 'audio', version_id: 1, minimum_version_id: 1, fields: [] });

export const audio = vmsd({
  name: 'audio',
  version_id: 1,
  minimum_version_id: 1,
  needed: () => false,
  fields: [],
});
