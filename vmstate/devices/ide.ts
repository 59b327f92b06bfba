/**
 * IDE (hw/ide/core.c, pci.c): the drive and bus state shared with AHCI, and the PIIX3 IDE
 * function 00:01.1 on pc, section "ide" (registered by the device, so not in -dump-vmstate).
 */
import { f, k, vmsd, type State } from '../../src/dsl-kit';
import { pciDevice } from './pci';
import { dumpWithoutNum } from '../dump-vmstate';

/** ATA status: data request pending (a PIO transfer is in flight). */
const DRQ_STAT = 0x08;
/** IDEBus.error_status bits: a request to retry after the VM resumes. */
const IDE_RETRY_DMA = 0x08;
const IDE_RETRY_PIO = 0x10;
const IDE_RETRY_READ = 0x20;
const IDE_RETRY_FLUSH = 0x40;
/** Bits old QEMUs kept in the BMDMA status register instead of error_status. */
const BM_MIGRATION_COMPAT_STATUS_BITS =
  IDE_RETRY_DMA | IDE_RETRY_PIO | IDE_RETRY_READ | IDE_RETRY_FLUSH;
/** IDEState.io_buffer_total_len: IDE_DMA_BUF_SECTORS (256) sectors plus 4 bytes, a device constant. */
const IO_BUFFER_TOTAL_LEN = 256 * 512 + 4;

/**
 * The owning bus's error_status, which ide_drive/pio_state's needed() reads through the drive's
 * bus pointer. A drive state has no such pointer here, so the enclosing description's pre_save
 * copies the bus's value into this non-field key of each drive it writes.
 */
export const BUS_ERROR_STATUS = '\u0000bus.error_status';

/** A copy of a drive state that knows its bus's error_status (for ide_drive/pio_state). */
export function driveOnBus(drive: unknown, bus: unknown): State {
  return { ...(drive as State), [BUS_ERROR_STATUS]: (bus as State).error_status ?? 0 };
}

const pioState = vmsd({
  name: 'ide_drive/pio_state',
  version_id: 1,
  minimum_version_id: 1,
  // A PIO transfer is in flight, or one must be retried when the VM resumes.
  needed: (s: Readonly<State>) =>
    ((s.status as number) & DRQ_STAT) !== 0 ||
    (((s[BUS_ERROR_STATUS] as number | undefined) ?? 0) & IDE_RETRY_PIO) !== 0,
  fields: [
    f.i32('req_nb_sectors'),
    // VMSTATE_VARRAY_INT32 over io_buffer_total_len, the receiver's constant, not a stream value.
    dumpWithoutNum(f.array('io_buffer', k.u8, IO_BUFFER_TOTAL_LEN, { version: 1 })),
    f.i32('cur_io_buffer_offset'),
    f.i32('cur_io_buffer_len'),
    f.u8('end_transfer_fn_idx'),
    f.i32('elementary_transfer_size'),
    f.i32('packet_transfer_size'),
  ],
});

const trayState = vmsd({
  name: 'ide_drive/tray_state',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.tray_open === true || s.tray_locked === true,
  fields: [f.bool('tray_open'), f.bool('tray_locked')],
});

const gesnState = vmsd({
  name: 'ide_drive/atapi/gesn_state',
  version_id: 1,
  minimum_version_id: 1,
  // ATAPI GET EVENT STATUS NOTIFICATION events not yet reported to the guest.
  needed: (s) => s['events.new_media'] === true || s['events.eject_request'] === true,
  fields: [f.bool('events.new_media'), f.bool('events.eject_request')],
});

/** vmstate_ide_drive: one ATA/ATAPI device's registers. */
export const ideDrive = vmsd({
  name: 'ide_drive',
  version_id: 3,
  minimum_version_id: 0,
  fields: [
    f.i32('mult_sectors'),
    f.i32('identify_set'),
    f.buffer('identify_data', 512, { exists: (s) => s.identify_set !== 0 }),
    f.u8('feature'),
    f.u8('error'),
    f.u32('nsector'),
    f.u8('sector'),
    f.u8('lcyl'),
    f.u8('hcyl'),
    f.u8('hob_feature'),
    f.u8('hob_sector'),
    f.u8('hob_nsector'),
    f.u8('hob_lcyl'),
    f.u8('hob_hcyl'),
    f.u8('select'),
    f.u8('status'),
    f.u8('lba48'),
    f.u8('sense_key'),
    f.u8('asc'),
    f.u8('cdrom_changed', { version: 3 }),
  ],
  subsections: [pioState, trayState, gesnState],
});

const busError = vmsd({
  name: 'ide_bus/error',
  version_id: 2,
  minimum_version_id: 1,
  needed: (s) => s.error_status !== 0,
  fields: [
    f.i32('error_status'),
    f.i64('retry_sector_num', { version: 2 }),
    f.u32('retry_nsector', { version: 2 }),
    f.u8('retry_unit', { version: 2 }),
  ],
});

/** vmstate_ide_bus: the selected command/unit, and a pending retry. */
export const ideBus = vmsd({
  name: 'ide_bus',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u8('cmd'), f.u8('unit')],
  subsections: [busError],
});

const bmdmaCurrent = vmsd({
  name: 'ide bmdma_current',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => s.cur_prd_len !== 0,
  fields: [f.u32('cur_addr'), f.u32('cur_prd_last'), f.u32('cur_prd_addr'), f.u32('cur_prd_len')],
});

const bmdmaStatus = vmsd({
  name: 'ide bmdma/status',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => ((s.status as number) & BM_MIGRATION_COMPAT_STATUS_BITS) !== 0,
  fields: [f.u8('status')],
});

/** vmstate_bmdma: one channel's bus-master DMA engine. */
const bmdma = vmsd({
  name: 'ide bmdma',
  version_id: 3,
  minimum_version_id: 0,
  fields: [
    f.u8('cmd'),
    f.u8('migration_compat_status'),
    f.u32('addr'),
    f.i64('migration_retry_sector_num'),
    f.u32('migration_retry_nsector'),
    f.u8('migration_retry_unit'),
  ],
  subsections: [bmdmaCurrent, bmdmaStatus],
});

/** vmstate_ide_pci: the PIIX IDE function (two channels, two drives each). */
export const idePci = vmsd({
  name: 'ide',
  version_id: 3,
  minimum_version_id: 0,
  pre_save: (s) => {
    const buses = s.bus as State[];
    return {
      ...s,
      'bus[0].ifs': (s['bus[0].ifs'] as State[]).map((d) => driveOnBus(d, buses[0])),
      'bus[1].ifs': (s['bus[1].ifs'] as State[]).map((d) => driveOnBus(d, buses[1])),
    };
  },
  fields: [
    f.struct('parent_obj', pciDevice),
    f.structArray('bmdma', bmdma, 2),
    f.structArray('bus', ideBus, 2, { version: 1 }),
    f.structArray('bus[0].ifs', ideDrive, 2, { version: 3 }),
    f.structArray('bus[1].ifs', ideDrive, 2, { version: 3 }),
  ],
});
