/**
 * "fw_cfg" (hw/nvram/fw_cfg.c; QOM fw_cfg_io on x86): the selected item and read offset of the
 * firmware configuration interface, its DMA address, and the sizes of the ACPI blobs it serves.
 */
import { f, vmsd } from '../../src/dsl-kit';
import { dumpSize } from '../dump-vmstate';
import { propOn } from './machine-ctx';
import { uint32AsUint16 } from './kinds';

/** Host page size QEMU aligns the ACPI memory regions to (x86_64 hosts: 4 KiB). */
const HOST_PAGE_SIZE = 4096n;

const dma = vmsd({
  name: 'fw_cfg/dma',
  version_id: 0,
  needed: (_s, ctx) => propOn(ctx, 'fw_cfg_io.dma_enabled', true),
  fields: [f.u64('dma_addr')],
});

const acpiMr = vmsd({
  name: 'fw_cfg/acpi_mr',
  version_id: 1,
  minimum_version_id: 1,
  // Sent when a blob size is not page aligned, so the receiver can resize its regions to match.
  needed: (s, ctx) =>
    propOn(ctx, 'fw_cfg.acpi-mr-restore', true) &&
    !([s.table_mr_size, s.linker_mr_size, s.rsdp_mr_size] as bigint[]).every(
      (n) => n % HOST_PAGE_SIZE === 0n,
    ),
  fields: [f.u64('table_mr_size'), f.u64('linker_mr_size'), f.u64('rsdp_mr_size')],
});

export const fwCfg = vmsd({
  name: 'fw_cfg',
  version_id: 2,
  minimum_version_id: 1,
  fields: [
    f.u16('cur_entry'),
    // Version 1 sent the offset as 16 bits into the same 32-bit member (VMSTATE_UINT16_HACK).
    dumpSize(
      f.field('cur_offset_v1', uint32AsUint16, { as: 'cur_offset', exists: (_s, v) => v === 1 }),
      4,
    ),
    f.u32('cur_offset', { version: 2 }),
  ],
  subsections: [dma, acpiMr],
});
