/** Intel 82574L, the q35 machine's default NIC (hw/net/e1000e.c, QOM e1000e), a PCI Express function. */
import { f, k, vmsd } from '../../src/dsl-kit';
import { dumpSize } from '../dump-vmstate';
import { msixState } from './kinds';
import { propOn } from './machine-ctx';
import { pcieDevice } from './pci';

const E1000E_MSIX_VEC_NUM = 5;
const E1000E_NUM_QUEUES = 2;
const E1000E_EEPROM_SIZE = 64;
/** E1000E_PHY_PAGES x E1000E_PHY_PAGE_SIZE, sent as one flat 2-D array. */
const E1000E_PHY_REGISTERS = 7 * 0x20;
const E1000E_MAC_SIZE = 0x8000;
/** E1000_PSRCTL_BUFFS_PER_DESC: packet-split receive buffers per descriptor. */
const PSRCTL_BUFFS_PER_DESC = 4;

/** vmstate_msix: the MSI-X table and PBA of a function with five vectors. */
const msix = vmsd({
  name: 'msix',
  version_id: 0,
  // QEMU's field has size 0: msix_save/msix_load know the length, VMStateField does not.
  fields: [dumpSize(f.field('msix', msixState(E1000E_MSIX_VEC_NUM)), 0)],
});

const tx = vmsd({
  name: 'e1000e-tx',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.u8('sum_needed'),
    f.u8('props.ipcss'),
    f.u8('props.ipcso'),
    f.u16('props.ipcse'),
    f.u8('props.tucss'),
    f.u8('props.tucso'),
    f.u16('props.tucse'),
    f.u8('props.hdr_len'),
    f.u16('props.mss'),
    f.u32('props.paylen'),
    f.i8('props.ip'),
    f.i8('props.tcp'),
    f.bool('props.tse'),
    f.bool('cptse'),
    f.bool('skip_cp'),
  ],
});

/** An interrupt-delay timer (RDTR, RADV, ...): its expiry and whether it runs. */
const intrTimer = vmsd({
  name: 'e1000e-intr-timer',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.timer('timer'), f.bool('running')],
});

/** The main body's fields from the PCI function to the receive/transmit timers. */
const head = [
  f.struct('parent_obj', pcieDevice),
  // VMSTATE_MSIX names the same member, so QEMU's vmdesc shows parent_obj[0] and parent_obj[1].
  f.struct('parent_obj.msix', msix, { as: 'parent_obj' }),
  f.u32('ioaddr'),
  f.u32('core.rxbuf_min_shift'),
  f.u8('core.rx_desc_len'),
  f.array('core.rxbuf_sizes', k.u32, PSRCTL_BUFFS_PER_DESC),
  f.u32('core.rx_desc_buf_size'),
  f.array('core.eeprom', k.u16, E1000E_EEPROM_SIZE),
  f.array('core.phy', k.u16, E1000E_PHY_REGISTERS),
  f.array('core.mac', k.u32, E1000E_MAC_SIZE),
  f.array('core.permanent_mac', k.u8, 6),
  f.u32('core.delayed_causes'),
  f.u16('subsys'),
  f.u16('subsys_ven'),
  f.struct('core.rdtr', intrTimer),
  f.struct('core.radv', intrTimer),
  f.struct('core.raid', intrTimer),
  f.struct('core.tadv', intrTimer),
  f.struct('core.tidv', intrTimer),
  f.struct('core.itr', intrTimer),
];

/** After the interrupt-pending flags. */
const tail = [
  f.u32('core.itr_guest_value'),
  f.array('core.eitr_guest_value', k.u32, E1000E_MSIX_VEC_NUM),
  f.u16('core.vet'),
  f.structArray('core.tx', tx, E1000E_NUM_QUEUES),
];

export const e1000e = vmsd({
  name: 'e1000e',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    ...head,
    f.bool('core.itr_intr_pending'),
    f.structArray('core.eitr', intrTimer, E1000E_MSIX_VEC_NUM),
    f.array('core.eitr_intr_pending', k.bool, E1000E_MSIX_VEC_NUM),
    ...tail,
  ],
});

/**
 * After 7.2 (10.0 has it): the interrupt-pending flags are gone (VMSTATE_UNUSED of their size)
 * and the PTP clock adjustment core.timadj follows, sent when the migrate-timadj property is on
 * (off for machine types 7.2 and older: hw_compat_7_2).
 */
export const e1000eTimadj = vmsd({
  name: 'e1000e',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    ...head,
    f.unused(1),
    f.structArray('core.eitr', intrTimer, E1000E_MSIX_VEC_NUM),
    f.unused(E1000E_MSIX_VEC_NUM),
    ...tail,
    f.i64('core.timadj', { exists: (_s, _v, ctx) => propOn(ctx, 'e1000e.migrate-timadj', true) }),
  ],
});
