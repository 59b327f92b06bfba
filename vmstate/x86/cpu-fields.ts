/**
 * The main field list of the x86 `cpu` section (vmstate_x86_cpu.fields), qemu-system-x86_64
 * layout: 1817 bytes, identical on the wire in every release from 2.11 on. Only one C member
 * was renamed (4.1: exception_injected -> exception_nr), which changes the vmdesc name but not
 * the bytes, so the state key stays `env.exception_nr` in every release.
 */
import { f, k } from '../../src/dsl';
import { fpreg, mtrrVar, segment, xmmReg, ymmhReg } from './structs';

/** CPU_NB_REGS on x86_64. */
export const CPU_NB_REGS = 16;
/** MCE_BANKS_DEF: banks of 4 MSRs each (CTL, STATUS, ADDR, MISC). */
export const MCE_BANKS_DEF = 10;
/** MSR_MTRRcap_VCNT: variable-range MTRR pairs. */
export const MTRR_VCNT = 8;

/** QEMU's name for the exception-number member: `env.exception_injected` until 4.0. */
export type ExceptionNrName = 'env.exception_nr' | 'env.exception_injected';

export function cpuMainFields(exceptionNrName: ExceptionNrName = 'env.exception_nr') {
  return [
    f.array('env.regs', k.u64, CPU_NB_REGS),
    f.u64('env.eip'),
    f.u64('env.eflags'),
    f.u32('env.hflags'),
    // FPU: status with TOP folded into bits 11-13, tag word with 1 = empty, format must be 0.
    f.u16('env.fpuc'),
    f.u16('env.fpus_vmstate'),
    f.u16('env.fptag_vmstate'),
    f.u16('env.fpregs_format_vmstate'),
    f.structArray('env.fpregs', fpreg, 8),
    f.structArray('env.segs', segment, 6),
    f.struct('env.ldt', segment),
    f.struct('env.tr', segment),
    f.struct('env.gdt', segment),
    f.struct('env.idt', segment),
    f.u32('env.sysenter_cs'),
    f.u64('env.sysenter_esp'),
    f.u64('env.sysenter_eip'),
    f.u64('env.cr[0]'),
    f.u64('env.cr[2]'),
    f.u64('env.cr[3]'),
    f.u64('env.cr[4]'),
    f.array('env.dr', k.u64, 8),
    f.i32('env.a20_mask'),
    f.u32('env.mxcsr'),
    // QEMU names both vector-register slices `env.xmm_regs` (the vmdesc adds [0]/[1]).
    f.structArray('env.xmm_regs', xmmReg, CPU_NB_REGS),
    f.u64('env.efer'),
    f.u64('env.star'),
    f.u64('env.lstar'),
    f.u64('env.cstar'),
    f.u64('env.fmask'),
    f.u64('env.kernelgsbase'),
    f.u32('env.smbase'),
    f.u64('env.pat'),
    f.u32('env.hflags2'),
    f.u64('env.vm_hsave'),
    f.u64('env.vm_vmcb'),
    f.u64('env.tsc_offset'),
    f.u64('env.intercept'),
    f.u16('env.intercept_cr_read'),
    f.u16('env.intercept_cr_write'),
    f.u16('env.intercept_dr_read'),
    f.u16('env.intercept_dr_write'),
    f.u32('env.intercept_exceptions'),
    f.u8('env.v_tpr'),
    f.array('env.mtrr_fixed', k.u64, 11),
    f.u64('env.mtrr_deftype'),
    f.structArray('env.mtrr_var', mtrrVar, MTRR_VCNT, { version: 8 }),
    f.i32('env.interrupt_injected'),
    f.u32('env.mp_state'),
    f.u64('env.tsc'),
    f.i32('env.exception_nr', { as: exceptionNrName }),
    f.u8('env.soft_interrupt'),
    f.u8('env.nmi_injected'),
    f.u8('env.nmi_pending'),
    f.u8('env.has_error_code'),
    f.u32('env.sipi_vector'),
    f.u64('env.mcg_cap'),
    f.u64('env.mcg_status'),
    f.u64('env.mcg_ctl'),
    f.array('env.mce_banks', k.u64, MCE_BANKS_DEF * 4),
    f.u64('env.tsc_aux'),
    f.u64('env.system_time_msr'),
    f.u64('env.wall_clock_msr'),
    // XSAVE state: version 12 fields, so present in every stream a 2.11+ QEMU writes.
    f.u64('env.xcr0', { version: 12 }),
    f.u64('env.xstate_bv', { version: 12 }),
    f.structArray('env.ymmh_regs', ymmhReg, CPU_NB_REGS, { version: 12, as: 'env.xmm_regs' }),
  ] as const;
}

/** Bits of env.hflags / env.hflags2 and control registers the hooks and needed() look at. */
export const HF_CPL_MASK = 0x3;
export const HF_SMM_MASK = 1 << 19;
export const HF_GUEST_MASK = 1 << 21;
export const HF2_GIF_MASK = 1 << 0;
export const HF2_NPT_MASK = 1 << 6;
export const CR0_PE_MASK = 1n;
export const CR0_PG_MASK = 1n << 31n;
export const CR4_PAE_MASK = 1n << 5n;
export const CR4_VMXE_MASK = 1n << 13n;
export const EFER_LMA = 1n << 10n;
/** Segment descriptor flags: DPL in bits 13-14. */
export const DESC_DPL_SHIFT = 13;
export const DESC_DPL_MASK = 3 << DESC_DPL_SHIFT;
/** Segment register indexes in env.segs. */
export const R_ES = 0;
export const R_CS = 1;
export const R_SS = 2;
export const R_DS = 3;
export const R_FS = 4;
export const R_GS = 5;
