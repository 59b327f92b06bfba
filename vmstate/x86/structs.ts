/**
 * The small nested descriptions the x86 `cpu` section embeds (target/i386/machine.c): segment
 * caches, vector register slices, MTRR/LBR/MPX records and the x87 register temporary.
 * Names and versions are QEMU's; they never appear on the wire but do in the vmdesc JSON.
 */
import { f, vmsd } from '../../src/dsl';
import { tmp } from '../../src/dsl/tmp';

/** SegmentCache: selector, base (target_ulong: 8 bytes on x86_64), limit, flags. */
export const segment = vmsd({
  name: 'segment',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u32('selector'), f.u64('base'), f.u32('limit'), f.u32('flags')],
});

/** Quadwords q0..q(n-1) of a ZMM register slice, named as QEMU's ZMM_Q() macro expands. */
const zmmQ = (i: number) => f.u64(`_q_ZMMReg[${i}]`);

/** XMM: low 128 bits of each vector register. */
export const xmmReg = vmsd({
  name: 'xmm_reg',
  version_id: 1,
  minimum_version_id: 1,
  fields: [zmmQ(0), zmmQ(1)],
});
/** YMM upper halves: bits 128..255. */
export const ymmhReg = vmsd({
  name: 'ymmh_reg',
  version_id: 1,
  minimum_version_id: 1,
  fields: [zmmQ(2), zmmQ(3)],
});
/** ZMM upper halves of registers 0..15: bits 256..511. */
export const zmmhReg = vmsd({
  name: 'zmmh_reg',
  version_id: 1,
  minimum_version_id: 1,
  fields: [zmmQ(4), zmmQ(5), zmmQ(6), zmmQ(7)],
});
/** ZMM16..31, all 512 bits (x86_64 only). */
export const hi16ZmmReg = vmsd({
  name: 'hi16_zmm_reg',
  version_id: 1,
  minimum_version_id: 1,
  fields: [zmmQ(0), zmmQ(1), zmmQ(2), zmmQ(3), zmmQ(4), zmmQ(5), zmmQ(6), zmmQ(7)],
});

/** MPX bound register. */
export const bndRegs = vmsd({
  name: 'bnd_regs',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u64('lb'), f.u64('ub')],
});

/** Variable-range MTRR pair. */
export const mtrrVar = vmsd({
  name: 'mtrr_var',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u64('base'), f.u64('mask')],
});

/** Architectural LBR record (QEMU 7.1+). */
export const lbrRecordsVar = vmsd({
  name: 'lbr_records_var',
  version_id: 1,
  minimum_version_id: 1,
  fields: [f.u64('from'), f.u64('to'), f.u64('info')],
});

/**
 * The x87 register as it travels: 64-bit mantissa then 16-bit sign+exponent (an 80-bit
 * floatx80 split in two). QEMU gives this description no version (0).
 */
export const fpregTmp = vmsd({
  name: 'fpreg_tmp',
  version_id: 0,
  fields: [f.u64('tmp_mant'), f.u16('tmp_exp')],
});

/** One x87 register: only the temporary above is written (VMSTATE_WITH_TMP). */
export const fpreg = vmsd({ name: 'fpreg', version_id: 0, fields: [tmp(fpregTmp)] });
