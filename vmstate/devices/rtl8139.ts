/**
 * Realtek RTL8139C+ (hw/net/rtl8139.c, QOM rtl8139), a conventional PCI NIC. Version 5 since
 * QEMU 1.x; the same in 5.2, 7.2 and 10.0 (their -dump-vmstate and streams).
 */
import { f, k, vmsd, type Ctx } from '../../src/dsl-kit';
import { propOn } from './machine-ctx';
import { pciDevice } from './pci';

/** EEPROM_9346_SIZE: 16-bit words of the 93C46 EEPROM. */
const EEPROM_WORDS = 64;

/**
 * rtl8139_hotplug_ready_needed is qdev_machine_modified(): true once a device was added or
 * removed after machine creation (device_add / device_del). No stream says so; the ctx key
 * `qdev.machine-modified` does (off: a VM started with its devices on the command line).
 */
const hotplugReady = vmsd({
  name: 'rtl8139/hotplug_ready',
  version_id: 1,
  minimum_version_id: 1,
  needed: (_s, ctx: Ctx) => propOn(ctx, 'qdev.machine-modified', false),
  fields: [],
});

export const rtl8139 = vmsd({
  name: 'rtl8139',
  version_id: 5,
  minimum_version_id: 3,
  fields: [
    f.struct('parent_obj', pciDevice),
    f.buffer('phys', 6), // VMSTATE_PARTIAL_BUFFER of the 8-byte phys[]
    f.buffer('mult', 8),
    f.array('TxStatus', k.u32, 4),
    f.array('TxAddr', k.u32, 4),
    f.u32('RxBuf'),
    f.u32('RxBufferSize'),
    f.u32('RxBufPtr'),
    f.u32('RxBufAddr'),
    f.u16('IntrStatus'),
    f.u16('IntrMask'),
    f.u32('TxConfig'),
    f.u32('RxConfig'),
    f.u32('RxMissed'),
    f.u16('CSCR'),
    f.u8('Cfg9346'),
    f.u8('Config0'),
    f.u8('Config1'),
    f.u8('Config3'),
    f.u8('Config4'),
    f.u8('Config5'),
    f.u8('clock_enabled'),
    f.u8('bChipCmdState'),
    f.u16('MultiIntr'),
    f.u16('BasicModeCtrl'),
    f.u16('BasicModeStatus'),
    f.u16('NWayAdvert'),
    f.u16('NWayLPAR'),
    f.u16('NWayExpansion'),
    f.u16('CpCmd'),
    f.u8('TxThresh'),
    f.unused(4),
    f.buffer('conf.macaddr', 6), // VMSTATE_MACADDR
    f.i32('rtl8139_mmio_io_addr_dummy'),
    f.u32('currTxDesc'),
    f.u32('currCPlusRxDesc'),
    f.u32('currCPlusTxDesc'),
    f.u32('RxRingAddrLO'),
    f.u32('RxRingAddrHI'),
    f.array('eeprom.contents', k.u16, EEPROM_WORDS),
    f.i32('eeprom.mode'),
    f.u32('eeprom.tick'),
    f.u8('eeprom.address'),
    f.u16('eeprom.input'),
    f.u16('eeprom.output'),
    f.u8('eeprom.eecs'),
    f.u8('eeprom.eesk'),
    f.u8('eeprom.eedi'),
    f.u8('eeprom.eedo'),
    f.u32('TCTR'),
    f.u32('TimerInt'),
    f.i64('TCTR_base'),
    f.u64('tally_counters.TxOk'),
    f.u64('tally_counters.RxOk'),
    f.u64('tally_counters.TxERR'),
    f.u32('tally_counters.RxERR'),
    f.u16('tally_counters.MissPkt'),
    f.u16('tally_counters.FAE'),
    f.u32('tally_counters.Tx1Col'),
    f.u32('tally_counters.TxMCol'),
    f.u64('tally_counters.RxOkPhy'),
    f.u64('tally_counters.RxOkBrd'),
    f.u32('tally_counters.RxOkMul', { version: 5 }),
    f.u16('tally_counters.TxAbt'),
    f.u16('tally_counters.TxUndrn'),
    f.u32('cplus_enabled', { version: 4 }),
  ],
  subsections: [hotplugReady],
});
