/**
 * USB HID devices (hw/usb/dev-hid.c): usb-tablet and usb-mouse (section "usb-ptr") and usb-kbd
 * (section "usb-kbd"), each a USBDevice (hw/usb/bus.c vmstate_usb_device) plus the HID state
 * (hw/input/hid.c). The same in 5.2, 7.2 and 10.0 (their -dump-vmstate and streams).
 */
import { f, k, vmsd } from '../../src/dsl-kit';

/** vmstate_usb_device (VMSTATE_USB_DEVICE). */
export const usbDevice = vmsd({
  name: 'USBDevice',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.u8('addr'),
    f.i32('state'),
    f.i32('remote_wakeup'),
    f.i32('setup_state'),
    f.i32('setup_len'),
    f.i32('setup_index'),
    f.array('setup_buf', k.u8, 8),
  ],
});

/** QUEUE_LENGTH: pending HID events. */
const QUEUE_LENGTH = 16;

const pointerEvent = vmsd({
  name: 'HIDPointerEventQueue',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.i32('xdx'), f.i32('ydy'), f.i32('dz'), f.i32('buttons_state')],
});

/** vmstate_hid_ptr_device (VMSTATE_HID_POINTER_DEVICE). */
const hidPointer = vmsd({
  name: 'HIDPointerDevice',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.structArray('ptr.queue', pointerEvent, QUEUE_LENGTH),
    f.u32('head'),
    f.u32('n'),
    f.i32('protocol'),
    f.u8('idle'),
  ],
});

/** vmstate_hid_keyboard_device (VMSTATE_HID_KEYBOARD_DEVICE). */
const hidKeyboard = vmsd({
  name: 'HIDKeyboardDevice',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.array('kbd.keycodes', k.u32, QUEUE_LENGTH),
    f.u32('head'),
    f.u32('n'),
    f.u16('kbd.modifiers'),
    f.u8('kbd.leds'),
    f.array('kbd.key', k.u8, 16),
    f.i32('kbd.keys'),
    f.i32('protocol'),
    f.u8('idle'),
  ],
});

export const usbPointer = vmsd({
  name: 'usb-ptr',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.struct('dev', usbDevice), f.struct('hid', hidPointer)],
});

export const usbKeyboard = vmsd({
  name: 'usb-kbd',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.struct('dev', usbDevice), f.struct('hid', hidKeyboard)],
});
