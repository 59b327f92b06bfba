/**
 * The HDA codecs (hw/audio/hda-codec.c vmstate_hda_audio, section "hda-audio"; QOM hda-duplex,
 * hda-output and hda-micro share it), on the intel-hda controller's bus. The same in 5.2, 7.2
 * and 10.0.
 */
import { f, initialState, k, vmsd, type Ctx, type State } from '../../src/dsl-kit';
import { propOn } from './machine-ctx';

/** HDAAudioState.st[]: stream slots, of which the codec's widgets use the first few. */
const STREAM_SLOTS = 4;
/** hda-duplex's audio widgets (hda-codec-common.h): a DAC on st[0] and an ADC on st[1]. */
const DUPLEX_STREAMS = 2;

/**
 * Not on the wire: whether a stream slot belongs to one of the codec's widgets (QEMU's
 * `st->state`, set by hda_audio_init for the DAC/ADC nodes only). The receiving codec knows it
 * from its own widgets, so the catalog's receiver state carries it (hdaDuplexReceiver).
 */
const NODE = 'node';
const hasNode = (s: Readonly<State>): boolean => (s as Record<string, unknown>)[NODE] === true;

/**
 * vmstate_hda_audio_stream_buf_needed: `st->state && st->state->use_timer`; use-timer is a
 * device property, off on machine types 2.12 and older (hw_compat_2_12).
 */
const streamBuffer = vmsd({
  name: 'hda-audio-stream/buffer',
  version_id: 1,
  needed: (s, ctx: Ctx) => hasNode(s) && propOn(ctx, 'hda-audio.use-timer', true),
  fields: [
    f.buffer('buf', 8192),
    f.i64('rpos'),
    f.i64('wpos'),
    f.timer('buft'),
    f.i64('buft_start'),
  ],
});

const stream = vmsd({
  name: 'hda-audio-stream',
  version_id: 1,
  fields: [
    f.u32('stream'),
    f.u32('channel'),
    f.u32('format'),
    f.u32('gain_left'),
    f.u32('gain_right'),
    f.bool('mute_left'),
    f.bool('mute_right'),
    f.u32('compat_bpos'),
    f.buffer('compat_buf', 256),
  ],
  subsections: [streamBuffer],
});

export const hdaAudio = vmsd({
  name: 'hda-audio',
  version_id: 2,
  fields: [
    f.structArray('st', stream, STREAM_SLOTS),
    f.array('running_compat', k.bool, 16),
    f.array('running_real', k.bool, 2 * 16, { version: 2 }),
  ],
});

/** An hda-duplex codec before a load: its DAC and ADC slots are its widgets' streams. */
export function hdaDuplexReceiver(): State {
  const s = initialState(hdaAudio) as State;
  const streams = s.st as State[];
  return { ...s, st: streams.map((e, i) => ({ ...e, [NODE]: i < DUPLEX_STREAMS })) };
}
