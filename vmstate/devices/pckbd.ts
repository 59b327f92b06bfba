/**
 * The i8042 keyboard controller, section "pckbd" (hw/input/pckbd.c, QOM i8042), and the PS/2
 * keyboard and mouse behind it, sections "ps2kbd" / "ps2mouse" (hw/input/ps2.c).
 */
import { f, k, vmsd, type AnyVMSDesc, type State } from '../../src/dsl-kit';
import { propOn } from './machine-ctx';
import { withInitial } from './kinds';

// ---- PS/2 devices

const ps2Common = vmsd({
  name: 'PS2 Common State',
  version_id: 3,
  minimum_version_id: 2,
  fields: [
    f.i32('write_cmd'),
    f.i32('queue.rptr'),
    f.i32('queue.wptr'),
    f.i32('queue.count'),
    f.buffer('queue.data', 256),
  ],
});

const ledState = vmsd({
  name: 'ps2kbd/ledstate',
  version_id: 3,
  minimum_version_id: 2,
  needed: (s) => s.ledstate !== 0,
  fields: [f.i32('ledstate')],
});

const needHighBit = vmsd({
  name: 'ps2kbd/need_high_bit',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.need_high_bit === true,
  fields: [f.bool('need_high_bit')],
});

/**
 * The keyboard and mouse of a release: the common PS/2 state is the member `parent_obj` since
 * QEMU 7.0 (PS2State became a QOM parent), `common` before (5.2).
 */
function ps2Devices(parent: 'parent_obj' | 'common') {
  const cwptr = `${parent}.queue.cwptr`;
  const commandReplyQueue = vmsd({
    name: 'ps2kbd/command_reply_queue',
    version_id: 0,
    // -1: no command reply is queued ahead of scancodes (the usual case).
    needed: (s) => s[cwptr] !== -1,
    fields: [f.field(cwptr, withInitial(k.i32, -1))],
  });
  const keyboard = vmsd({
    name: 'ps2kbd',
    version_id: 3,
    minimum_version_id: 2,
    fields: [
      f.struct(parent, ps2Common),
      f.i32('scan_enabled'),
      f.i32('translate'),
      f.i32('scancode_set', { version: 3 }),
    ],
    subsections: [ledState, needHighBit, commandReplyQueue],
  });
  const mouse = vmsd({
    name: 'ps2mouse',
    version_id: 2,
    minimum_version_id: 2,
    fields: [
      f.struct(parent, ps2Common),
      f.u8('mouse_status'),
      f.u8('mouse_resolution'),
      f.u8('mouse_sample_rate'),
      f.u8('mouse_wrap'),
      f.u8('mouse_type'),
      f.u8('mouse_detect_state'),
      f.i32('mouse_dx'),
      f.i32('mouse_dy'),
      f.i32('mouse_dz'),
      f.u8('mouse_buttons'),
    ],
  });
  return { keyboard, mouse };
}

const ps2 = ps2Devices('parent_obj');
const ps252 = ps2Devices('common');
export const ps2Keyboard = ps2.keyboard;
export const ps2Mouse = ps2.mouse;
/** QEMU 5.2's forms: the common state as `common`. */
export const ps2KeyboardV52 = ps252.keyboard;
export const ps2MouseV52 = ps252.mouse;

// ---- the controller

/** Output port bits: reset line (inactive), A20 enabled, the always-one bits, buffer-full mirrors. */
const KBD_OUT_RESET = 0x01;
const KBD_OUT_A20 = 0x02;
const KBD_OUT_OBF = 0x10;
const KBD_OUT_MOUSE_OBF = 0x20;
const KBD_OUT_ONES = 0xcc;
/** Status bits the output port mirrors. */
const KBD_STAT_OBF = 0x01;
const KBD_STAT_MOUSE_OBF = 0x20;
/** Not a byte: marks "no outport subsection was loaded" between pre_load and post_load. */
const OUTPORT_NOT_LOADED = -1;

/** kbd_outport_default(): what the output port holds unless the guest changed it. */
function defaultOutport(s: Readonly<State>): number {
  const status = s.status as number;
  return (
    KBD_OUT_RESET |
    KBD_OUT_A20 |
    KBD_OUT_ONES |
    (status & KBD_STAT_OBF ? KBD_OUT_OBF : 0) |
    (status & KBD_STAT_MOUSE_OBF ? KBD_OUT_MOUSE_OBF : 0)
  );
}

const outport = vmsd({
  name: 'pckbd_outport',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.outport !== defaultOutport(s),
  // A fresh controller's port is the default for an empty status.
  fields: [f.field('outport', withInitial(k.u8, KBD_OUT_RESET | KBD_OUT_A20 | KBD_OUT_ONES))],
});

const extendedState = vmsd({
  name: 'pckbd/extended_state',
  version_id: 0,
  needed: (_s, ctx) => propOn(ctx, 'i8042.extended-state', true),
  fields: [f.u32('migration_flags'), f.u32('obsrc'), f.u8('obdata'), f.u8('cbdata')],
});

/** vmstate_kbd, the KBDState the ISA device embeds. */
const kbdState = kbdStateOf('pending_tmp', [outport, extendedState]);

/**
 * QEMU 5.2's form: the pending byte saved as itself and no pckbd/extended_state (both came with
 * the i8042 extended-state property, hw_compat_6_0).
 */
const kbdState52 = kbdStateOf('pending', [outport]);

function kbdStateOf(pending: string, subsections: AnyVMSDesc[]) {
  return vmsd({
    name: 'pckbd',
    version_id: 3,
    minimum_version_id: 3,
    // As kbd_pre_load/kbd_post_load: without the outport subsection the port takes its default.
    pre_load: (s) => {
      s.outport = OUTPORT_NOT_LOADED;
    },
    post_load: (s) => {
      if (s.outport === OUTPORT_NOT_LOADED) s.outport = defaultOutport(s);
    },
    fields: [f.u8('write_cmd'), f.u8('status'), f.u8('mode'), f.u8(pending)],
    subsections,
  });
}

export const i8042 = vmsd({
  name: 'pckbd',
  version_id: 3,
  minimum_version_id: 3,
  fields: [f.struct('kbd', kbdState)],
});

export const i8042V52 = vmsd({
  name: 'pckbd',
  version_id: 3,
  minimum_version_id: 3,
  fields: [f.struct('kbd', kbdState52)],
});
