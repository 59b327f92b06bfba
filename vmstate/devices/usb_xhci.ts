/**
 * The xHCI USB 3 controller on PCI (hw/usb/hcd-xhci-pci.c vmstate_xhci_pci, section "xhci", QOM
 * qemu-xhci) around the xHCI core (hw/usb/hcd-xhci.c vmstate_xhci, "xhci-core"). qemu-xhci is
 * a PCI Express function on both machines (4096-byte config space, also on i440FX). The same in
 * 5.2, 7.2 and 10.0.
 */
import { f, vmsd } from '../../src/dsl-kit';
import { dumpSize, dumpWithoutNum } from '../dump-vmstate';
import { msixState } from './kinds';
import { pcieDevice } from './pci';

/** qemu-xhci's defaults: p2=4 + p3=4 ports, slots=64 (XHCI_MAXSLOTS), intrs=16 (XHCI_MAXINTRS). */
const PORTS = 8;
const SLOTS = 64;
const INTRS = 16;
/** EV_QUEUE: ((3 * 24) + 16) * XHCI_MAXSLOTS events, never sent (xhci_er_full is false). */
const EV_QUEUE = (3 * 24 + 16) * SLOTS;

/** vmstate_msix with XHCI_MAXINTRS vectors. */
const msix = vmsd({
  name: 'msix',
  version_id: 0,
  // QEMU's field has size 0: msix_save/msix_load know the length, VMStateField does not.
  fields: [dumpSize(f.field('msix', msixState(INTRS)), 0)],
});

const ring = vmsd({
  name: 'xhci-ring',
  version_id: 1,
  fields: [f.u64('dequeue'), f.bool('ccs')],
});

const port = vmsd({ name: 'xhci-port', version_id: 1, fields: [f.u32('portsc')] });

const slot = vmsd({
  name: 'xhci-slot',
  version_id: 1,
  fields: [f.bool('enabled'), f.bool('addressed')],
});

const event = vmsd({
  name: 'xhci-event',
  version_id: 1,
  fields: [
    f.u32('type'),
    f.u32('ccode'),
    f.u64('ptr'),
    f.u32('length'),
    f.u32('flags'),
    f.u8('slotid'),
    f.u8('epid'),
  ],
});

/** xhci_er_full: the event-queue fields are never on the wire (QEMU's test always says false). */
const erFull = () => false;

const interrupter = vmsd({
  name: 'xhci-intr',
  version_id: 1,
  fields: [
    f.u32('iman'),
    f.u32('imod'),
    f.u32('erstsz'),
    f.u32('erstba_low'),
    f.u32('erstba_high'),
    f.u32('erdp_low'),
    f.u32('erdp_high'),
    f.bool('msix_used'),
    f.bool('er_pcs'),
    f.u64('er_start'),
    f.u32('er_size'),
    f.u32('er_ep_idx'),
    f.bool('er_full_unused'),
    f.u32('ev_buffer_put', { exists: erFull }),
    f.u32('ev_buffer_get', { exists: erFull }),
    f.structArray('ev_buffer', event, EV_QUEUE, { exists: erFull, version: 1 }),
  ],
});

const xhciCore = vmsd({
  name: 'xhci-core',
  version_id: 1,
  fields: [
    // VMSTATE_STRUCT_VARRAY_UINT32 counted by the device's numports / numslots / numintrs.
    dumpWithoutNum(f.structArray('ports', port, PORTS, { version: 1 })),
    dumpWithoutNum(f.structArray('slots', slot, SLOTS, { version: 1 })),
    dumpWithoutNum(f.structArray('intr', interrupter, INTRS, { version: 1 })),
    f.u32('usbcmd'),
    f.u32('usbsts'),
    f.u32('dnctrl'),
    f.u32('crcr_low'),
    f.u32('crcr_high'),
    f.u32('dcbaap_low'),
    f.u32('dcbaap_high'),
    f.u32('config'),
    f.i64('mfindex_start'),
    f.timer('mfwrap_timer'),
    f.struct('cmd_ring', ring, { version: 1 }),
  ],
});

export const qemuXhci = vmsd({
  name: 'xhci',
  version_id: 1,
  fields: [
    f.struct('parent_obj', pcieDevice),
    // VMSTATE_MSIX names the same member, so QEMU's vmdesc shows parent_obj[0] and parent_obj[1].
    f.struct('parent_obj.msix', msix, { as: 'parent_obj' }),
    f.struct('xhci', xhciCore, { version: 1 }),
  ],
});
