/** The standard VGA as a PCI function (hw/display/vga.c, vga-pci.c; QOM VGA), a default device. */
import { f, k, vmsd } from '../../src/dsl-kit';
import { uint8Equal } from './kinds';
import { pciDevice } from './pci';

/** VBE_DISPI_INDEX_NB: the Bochs VBE register file. */
const VBE_DISPI_INDEX_NB = 10;

const endian = vmsd({
  name: 'vga.endian',
  version_id: 1,
  minimum_version_id: 1,
  // Only when the guest switched the framebuffer away from the target's default, little endian on x86.
  needed: (s) => s.big_endian_fb === true,
  fields: [f.bool('big_endian_fb')],
});

/** vmstate_vga_common: the VGA registers, DAC and Bochs VBE state. */
export const vgaCommon = vmsd({
  name: 'vga',
  version_id: 2,
  minimum_version_id: 2,
  fields: [
    f.u32('latch'),
    f.u8('sr_index'),
    f.buffer('sr', 8),
    f.u8('gr_index'),
    f.buffer('gr', 16),
    f.u8('ar_index'),
    f.buffer('ar', 21),
    f.i32('ar_flip_flop'),
    f.u8('cr_index'),
    f.buffer('cr', 256),
    f.u8('msr'),
    f.u8('fcr'),
    f.u8('st00'),
    f.u8('st01'),
    f.u8('dac_state'),
    f.u8('dac_sub_index'),
    f.u8('dac_read_index'),
    f.u8('dac_write_index'),
    f.buffer('dac_cache', 3),
    f.buffer('palette', 768),
    f.i32('bank_offset'),
    // Always 1 since QEMU dropped the build option without VBE.
    f.field('is_vbe_vmstate', uint8Equal(1)),
    f.u16('vbe_index'),
    f.array('vbe_regs', k.u16, VBE_DISPI_INDEX_NB),
    f.u32('vbe_start_addr'),
    f.u32('vbe_line_offset'),
    f.u32('vbe_bank_mask'),
  ],
  subsections: [endian],
});

export const vgaPci = vmsd({
  name: 'vga',
  version_id: 2,
  minimum_version_id: 2,
  fields: [f.struct('dev', pciDevice), f.struct('vga', vgaCommon)],
});
