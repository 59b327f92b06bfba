/**
 * The Intel HD Audio controller (hw/audio/intel-hda.c vmstate_intel_hda, QOM intel-hda, the ICH6
 * one; ich9-intel-hda shares it), a conventional PCI function. The same in 5.2, 7.2 and 10.0.
 */
import { f, vmsd } from '../../src/dsl-kit';
import { pciDevice } from './pci';

const stream = vmsd({
  name: 'intel-hda-stream',
  version_id: 1,
  fields: [
    f.u32('ctl'),
    f.u32('lpib'),
    f.u32('cbl'),
    f.u32('lvi'),
    f.u32('fmt'),
    f.u32('bdlp_lbase'),
    f.u32('bdlp_ubase'),
  ],
});

const REGISTERS = [
  'g_ctl',
  'wake_en',
  'state_sts',
  'int_ctl',
  'int_sts',
  'wall_clk',
  'corb_lbase',
  'corb_ubase',
  'corb_rp',
  'corb_wp',
  'corb_ctl',
  'corb_sts',
  'corb_size',
  'rirb_lbase',
  'rirb_ubase',
  'rirb_wp',
  'rirb_cnt',
  'rirb_ctl',
  'rirb_sts',
  'rirb_size',
  'dp_lbase',
  'dp_ubase',
  'icw',
  'irr',
  'ics',
] as const;

export const intelHda = vmsd({
  name: 'intel-hda',
  version_id: 1,
  fields: [
    f.struct('pci', pciDevice),
    ...REGISTERS.map((r) => f.u32(r)),
    f.structArray('st', stream, 8),
    f.u32('rirb_count'),
    f.i64('wall_base_ns'),
  ],
});
