/** Intel 82540EM, the pc machine's default NIC (hw/net/e1000.c, QOM e1000). */
import { f, k, vmsd, type Ctx, type State } from '../../src/dsl-kit';
import { propOn } from './machine-ctx';
import { pciDevice } from './pci';

/** The MAC registers the main body sends one by one, in QEMU's order (the named mac_reg[...] fields). */
const NAMED_MAC_REGISTERS = [
  'CTRL',
  'EECD',
  'EERD',
  'GPRC',
  'GPTC',
  'ICR',
  'ICS',
  'IMC',
  'IMS',
  'LEDCTL',
  'MANC',
  'MDIC',
  'MPC',
  'PBA',
  'RCTL',
  'RDBAH',
  'RDBAL',
  'RDH',
  'RDLEN',
  'RDT',
  'STATUS',
  'SWSM',
  'TCTL',
  'TDBAH',
  'TDBAL',
  'TDH',
  'TDLEN',
  'TDT',
  'TORH',
  'TORL',
  'TOTH',
  'TOTL',
  'TPR',
  'TPT',
  'TXDCTL',
  'WUFC',
  'VET',
] as const;

/** The whole MAC register file (0x8000 32-bit registers) that e1000/full_mac_state carries. */
const MAC_REGISTER_COUNT = 0x8000;

/** A needed() on one of the compat_flags bits, which are device properties on for 7.2 machine types. */
const flag =
  (name: 'mitigation' | 'extra_mac_registers' | 'migrate_tso_props') =>
  (_s: Readonly<State>, ctx: Ctx): boolean =>
    propOn(ctx, `e1000.${name}`, true);

const mitigation = vmsd({
  name: 'e1000/mit_state',
  version_id: 1,
  minimum_version_id: 1,
  needed: flag('mitigation'),
  fields: [
    f.u32('mac_reg[RDTR]'),
    f.u32('mac_reg[RADV]'),
    f.u32('mac_reg[TADV]'),
    f.u32('mac_reg[ITR]'),
    f.bool('mit_irq_level'),
  ],
});

const fullMac = vmsd({
  name: 'e1000/full_mac_state',
  version_id: 1,
  minimum_version_id: 1,
  needed: flag('extra_mac_registers'),
  fields: [f.array('mac_reg', k.u32, MAC_REGISTER_COUNT)],
});

const tsoProps = vmsd({
  name: 'e1000/tx_tso_state',
  version_id: 1,
  minimum_version_id: 1,
  needed: flag('migrate_tso_props'),
  fields: [
    f.u8('tx.tso_props.ipcss'),
    f.u8('tx.tso_props.ipcso'),
    f.u16('tx.tso_props.ipcse'),
    f.u8('tx.tso_props.tucss'),
    f.u8('tx.tso_props.tucso'),
    f.u16('tx.tso_props.tucse'),
    f.u32('tx.tso_props.paylen'),
    f.u8('tx.tso_props.hdr_len'),
    f.u16('tx.tso_props.mss'),
    f.i8('tx.tso_props.ip'),
    f.i8('tx.tso_props.tcp'),
  ],
});

export const e1000 = vmsd({
  name: 'e1000',
  version_id: 2,
  minimum_version_id: 1,
  fields: [
    f.struct('parent_obj', pciDevice),
    f.unused(4, { exists: (_s, version) => version === 1 }), // was the instance id
    f.unused(4), // was mmio_base
    f.u32('rxbuf_size'),
    f.u32('rxbuf_min_shift'),
    f.u32('eecd_state.val_in'),
    f.u16('eecd_state.bitnum_in'),
    f.u16('eecd_state.bitnum_out'),
    f.u16('eecd_state.reading'),
    f.u32('eecd_state.old_eecd'),
    // The offload context in the pre-2.7 single-context layout (mig_props), see tx_tso_state.
    f.u8('mig_props.ipcss'),
    f.u8('mig_props.ipcso'),
    f.u16('mig_props.ipcse'),
    f.u8('mig_props.tucss'),
    f.u8('mig_props.tucso'),
    f.u16('mig_props.tucse'),
    f.u32('mig_props.paylen'),
    f.u8('mig_props.hdr_len'),
    f.u16('mig_props.mss'),
    f.u16('tx.size'),
    f.u16('tx.tso_frames'),
    f.u8('tx.sum_needed'),
    f.i8('mig_props.ip'),
    f.i8('mig_props.tcp'),
    f.buffer('tx.header', 256),
    f.buffer('tx.data', 0x10000),
    f.array('eeprom_data', k.u16, 64),
    f.array('phy_reg', k.u16, 0x20),
    ...NAMED_MAC_REGISTERS.map((r) => f.u32(`mac_reg[${r}]`)),
    // Three VMSTATE_UINT32_SUB_ARRAYs of mac_reg: receive addresses, multicast table, VLAN filter.
    f.array('mac_reg[RA:32]', k.u32, 32, { as: 'mac_reg' }),
    f.array('mac_reg[MTA:128]', k.u32, 128, { as: 'mac_reg' }),
    f.array('mac_reg[VFTA:128]', k.u32, 128, { as: 'mac_reg' }),
  ],
  subsections: [mitigation, fullMac, tsoProps],
});
