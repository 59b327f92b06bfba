/**
 * "kvm-tpr-opt" (hw/i386/kvmvapic.c, QOM type kvmvapic): the TPR-access patching of Windows XP
 * era guests. The name is kept for compatibility with qemu-kvm streams.
 */
import { f, k, vmsd } from '../../src/dsl-kit';

const handlers = vmsd({
  name: 'kvmvapic-handlers',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.u32('set_tpr'),
    f.u32('set_tpr_eax'),
    f.array('get_tpr', k.u32, 8),
    f.u32('get_tpr_stack'),
  ],
});

const guestRom = vmsd({
  name: 'kvmvapic-guest-rom',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.unused(8), // the ROM's signature
    f.u32('vaddr'),
    f.u32('fixup_start'),
    f.u32('fixup_end'),
    f.u32('vapic_vaddr'),
    f.u32('vapic_size'),
    f.u32('vcpu_shift'),
    f.u32('real_tpr_addr'),
    f.struct('up', handlers),
    f.struct('mp', handlers),
  ],
});

export const kvmvapic = vmsd({
  name: 'kvm-tpr-opt',
  version_id: 1,
  minimum_version_id: 1,
  fields: [
    f.struct('rom_state', guestRom),
    f.u32('state'),
    f.u32('real_tpr_addr'),
    f.u32('rom_state_vaddr'),
    f.u32('vapic_paddr'),
    f.u32('rom_state_paddr'),
  ],
});
