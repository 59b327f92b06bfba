/**
 * The SMBus host controller state shared by PIIX4 and ICH9 (hw/i2c/pm_smbus.c) and the ICH9
 * SMBus PCI function (hw/i2c/smbus_ich9.c). Both are sent only when the machine class
 * supports it (smbus_no_migration_support is set for 2.x-era machine types only).
 */
import { f, k, vmsd, type Ctx } from '../../src/dsl-kit';
import { propOn } from './machine-ctx';
import { pciDevice } from './pci';

/** pm_smbus_vmstate_needed(): the machine class field, as `machine.smbus_no_migration_support`. */
export const smbusMigrates = (ctx: Ctx): boolean =>
  !propOn(ctx, 'machine.smbus_no_migration_support', false);

/** PM_SMBUS_MAX_MSG_SIZE: the block-transfer buffer. */
const PM_SMBUS_MAX_MSG_SIZE = 32;

export const pmSmbus = vmsd({
  name: 'pmsmb',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.u8('smb_stat'),
    f.u8('smb_ctl'),
    f.u8('smb_cmd'),
    f.u8('smb_addr'),
    f.u8('smb_data0'),
    f.u8('smb_data1'),
    f.u32('smb_index'),
    f.array('smb_data', k.u8, PM_SMBUS_MAX_MSG_SIZE),
    f.u8('smb_auxctl'),
    f.u8('smb_blkdata'),
    f.bool('i2c_enable'),
    f.bool('op_done'),
    f.bool('in_i2c_block_read'),
    f.bool('start_transaction_on_status_read'),
  ],
});

/** "ich9_smb" (QOM ICH9-SMB), the SMBus controller at 00:1f.3 on q35. */
export const ich9Smbus = vmsd({
  name: 'ich9_smb',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.struct('dev', pciDevice),
    f.bool('irq_enabled', { exists: (_s, _v, ctx) => smbusMigrates(ctx) }),
    f.struct('smb', pmSmbus, { version: 1, exists: (_s, _v, ctx) => smbusMigrates(ctx) }),
  ],
});
