/**
 * The optional subsections of the x86 `cpu` section (target/i386/machine.c), each with the
 * needed() condition QEMU gives it, as a function of the state and the X86Ctx. All have
 * version 1 / minimum 1. The nested-virtualization tree is in nested.ts.
 *
 * Gates that changed between releases are parameters (msr_smi_count's property from 3.0, the
 * reenlightenment post_load check from 6.0); everything else is identical in every release
 * that has the subsection.
 */
import { f, k, vmsd, byteArray, type Ctx, type State } from '../../src/dsl';
import {
  CPU_NB_REGS,
  CR0_PG_MASK,
  CR4_PAE_MASK,
  EFER_LMA,
  HF_GUEST_MASK,
  HF2_NPT_MASK,
} from './cpu-fields';
import { cpuHas, cpuProp, isKvm, isTcg, propOn, X86_MACHINE_CLASS, type X86Ctx } from './ctx';
import { anyNonZero, anyNonZeroBy, big, list, nonZero, num } from './state-access';
import { bndRegs, hi16ZmmReg, lbrRecordsVar, zmmhReg } from './structs';

const x = (ctx: Ctx) => ctx as X86Ctx;

export const MAX_FIXED_COUNTERS = 3;
export const MAX_GP_COUNTERS = 18;
export const HV_CRASH_PARAMS = 5;
export const HV_SINT_COUNT = 16;
export const HV_STIMER_COUNT = 4;
export const NB_OPMASK_REGS = 8;
export const MAX_RTIT_ADDRS = 8;
export const ARCH_LBR_NR_ENTRIES = 32;
/** MSR_IA32_MISC_ENABLE_DEFAULT: fast strings enabled. */
export const MSR_IA32_MISC_ENABLE_DEFAULT = 1n;
/** HV_REENLIGHTENMENT_ENABLE_BIT in HV_X64_MSR_REENLIGHTENMENT_CONTROL. */
export const HV_REENLIGHTENMENT_ENABLE_BIT = 1n << 16n;

/** An exception is pending (not yet injected) while L2 runs: only then pending vs injected matters. */
export const exceptionInfo = vmsd({
  name: 'cpu/exception_info',
  version_id: 1,
  minimum_version_id: 1,
  // The subsection's state is the cpu's (QEMU's opaque): it reads env.hflags beside its own fields.
  needed: (s: Readonly<State>) =>
    num(s['env.exception_pending']) !== 0 && (num(s['env.hflags']) & HF_GUEST_MASK) !== 0,
  fields: [
    f.u8('env.exception_pending'),
    f.u8('env.exception_injected'),
    f.u8('env.exception_has_payload'),
    f.u64('env.exception_payload'),
  ],
});

export const asyncPfMsr = vmsd({
  name: 'cpu/async_pf_msr',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.async_pf_en_msr']) !== 0n,
  fields: [f.u64('env.async_pf_en_msr')],
});

export const asyncPfIntMsr = vmsd({
  name: 'cpu/async_pf_int_msr',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.async_pf_int_msr']) !== 0n,
  fields: [f.u64('env.async_pf_int_msr')],
});

export const pvEoiMsr = vmsd({
  name: 'cpu/async_pv_eoi_msr',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.pv_eoi_en_msr']) !== 0n,
  fields: [f.u64('env.pv_eoi_en_msr')],
});

export const stealTimeMsr = vmsd({
  name: 'cpu/steal_time_msr',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.steal_time_msr']) !== 0n,
  fields: [f.u64('env.steal_time_msr')],
});

/** KVM resets the poll-control MSR to 1; TCG leaves it 0, so TCG streams always carry this. */
export const pollControlMsr = vmsd({
  name: 'cpu/poll_control_msr',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.poll_control_msr']) !== 1n,
  fields: [f.u64('env.poll_control_msr')],
});

export const fpopIpDp = vmsd({
  name: 'cpu/fpop_ip_dp',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => num(s['env.fpop']) !== 0 || big(s['env.fpip']) !== 0n || big(s['env.fpdp']) !== 0n,
  fields: [f.u16('env.fpop'), f.u64('env.fpip'), f.u64('env.fpdp')],
});

export const msrTscAdjust = vmsd({
  name: 'cpu/msr_tsc_adjust',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.tsc_adjust']) !== 0n,
  fields: [f.u64('env.tsc_adjust')],
});

export const msrTscDeadline = vmsd({
  name: 'cpu/msr_tscdeadline',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.tsc_deadline']) !== 0n,
  fields: [f.u64('env.tsc_deadline')],
});

export const msrIa32MiscEnable = vmsd({
  name: 'cpu/msr_ia32_misc_enable',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.msr_ia32_misc_enable']) !== MSR_IA32_MISC_ENABLE_DEFAULT,
  fields: [f.u64('env.msr_ia32_misc_enable')],
});

/** Programmed by firmware (from fw_cfg etc/msr_feature_control) when VMX/LMCE/SGX is offered. */
export const msrIa32FeatureControl = vmsd({
  name: 'cpu/msr_ia32_feature_control',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.msr_ia32_feature_control']) !== 0n,
  fields: [f.u64('env.msr_ia32_feature_control')],
});

export const msrArchitecturalPmu = vmsd({
  name: 'cpu/msr_architectural_pmu',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) =>
    big(s['env.msr_fixed_ctr_ctrl']) !== 0n ||
    big(s['env.msr_global_ctrl']) !== 0n ||
    big(s['env.msr_global_status']) !== 0n ||
    big(s['env.msr_global_ovf_ctrl']) !== 0n ||
    anyNonZero(list(s['env.msr_fixed_counters'])) ||
    anyNonZero(list(s['env.msr_gp_counters'])) ||
    anyNonZero(list(s['env.msr_gp_evtsel'])),
  fields: [
    f.u64('env.msr_fixed_ctr_ctrl'),
    f.u64('env.msr_global_ctrl'),
    f.u64('env.msr_global_status'),
    f.u64('env.msr_global_ovf_ctrl'),
    f.array('env.msr_fixed_counters', k.u64, MAX_FIXED_COUNTERS),
    f.array('env.msr_gp_counters', k.u64, MAX_GP_COUNTERS),
    f.array('env.msr_gp_evtsel', k.u64, MAX_GP_COUNTERS),
  ],
});

export const mpx = vmsd({
  name: 'cpu/mpx',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) =>
    anyNonZero(list(s['env.bnd_regs']), ['lb', 'ub']) ||
    big(s['env.bndcs_regs.cfgu']) !== 0n ||
    big(s['env.bndcs_regs.sts']) !== 0n ||
    big(s['env.msr_bndcfgs']) !== 0n,
  fields: [
    f.structArray('env.bnd_regs', bndRegs, 4),
    f.u64('env.bndcs_regs.cfgu'),
    f.u64('env.bndcs_regs.sts'),
    f.u64('env.msr_bndcfgs'),
  ],
});

export const msrHypervHypercall = vmsd({
  name: 'cpu/msr_hyperv_hypercall',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.msr_hv_hypercall']) !== 0n || big(s['env.msr_hv_guest_os_id']) !== 0n,
  fields: [f.u64('env.msr_hv_guest_os_id'), f.u64('env.msr_hv_hypercall')],
});

export const msrHypervVapic = vmsd({
  name: 'cpu/msr_hyperv_vapic',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.msr_hv_vapic']) !== 0n,
  fields: [f.u64('env.msr_hv_vapic')],
});

export const msrHypervTime = vmsd({
  name: 'cpu/msr_hyperv_time',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.msr_hv_tsc']) !== 0n,
  fields: [f.u64('env.msr_hv_tsc')],
});

export const msrHypervCrash = vmsd({
  name: 'cpu/msr_hyperv_crash',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => anyNonZero(list(s['env.msr_hv_crash_params'])),
  fields: [f.array('env.msr_hv_crash_params', k.u64, HV_CRASH_PARAMS)],
});

/** Only with the hv-runtime enlightenment enabled on the CPU. */
export const msrHypervRuntime = vmsd({
  name: 'cpu/msr_hyperv_runtime',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s, ctx) => cpuHas(x(ctx), 'hvRuntime') && big(s['env.msr_hv_runtime']) !== 0n,
  fields: [f.u64('env.msr_hv_runtime')],
});

export const msrHypervSynic = vmsd({
  name: 'cpu/msr_hyperv_synic',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) =>
    big(s['env.msr_hv_synic_control']) !== 0n ||
    big(s['env.msr_hv_synic_evt_page']) !== 0n ||
    big(s['env.msr_hv_synic_msg_page']) !== 0n ||
    anyNonZero(list(s['env.msr_hv_synic_sint'])),
  fields: [
    f.u64('env.msr_hv_synic_control'),
    f.u64('env.msr_hv_synic_evt_page'),
    f.u64('env.msr_hv_synic_msg_page'),
    f.array('env.msr_hv_synic_sint', k.u64, HV_SINT_COUNT),
  ],
});

export const msrHypervStimer = vmsd({
  name: 'cpu/msr_hyperv_stimer',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) =>
    anyNonZero(list(s['env.msr_hv_stimer_config'])) ||
    anyNonZero(list(s['env.msr_hv_stimer_count'])),
  fields: [
    f.array('env.msr_hv_stimer_config', k.u64, HV_STIMER_COUNT),
    f.array('env.msr_hv_stimer_count', k.u64, HV_STIMER_COUNT),
  ],
});

/**
 * 3.0+. From 6.0 the receiver refuses enabled reenlightenment notifications unless the user fixed
 * the TSC frequency (KVM cannot notify the guest of a frequency change).
 */
export function msrHypervReenlightenment(checkTscFrequency: boolean) {
  return vmsd({
    name: 'cpu/msr_hyperv_reenlightenment',
    version_id: 1,
    minimum_version_id: 1,
    needed: (s) =>
      big(s['env.msr_hv_reenlightenment_control']) !== 0n ||
      big(s['env.msr_hv_tsc_emulation_control']) !== 0n ||
      big(s['env.msr_hv_tsc_emulation_status']) !== 0n,
    post_load: checkTscFrequency
      ? (s, _v, ctx) => {
          if (
            big(s['env.msr_hv_reenlightenment_control']) & HV_REENLIGHTENMENT_ENABLE_BIT &&
            !x(ctx).userTscKhz
          )
            throw new Error(
              "Guest enabled re-enlightenment notifications, 'tsc-frequency=' has to be specified",
            );
        }
      : undefined,
    fields: [
      f.u64('env.msr_hv_reenlightenment_control'),
      f.u64('env.msr_hv_tsc_emulation_control'),
      f.u64('env.msr_hv_tsc_emulation_status'),
    ],
  });
}

// avx512's needed() runs at every cpu save over 32 register slices: each slice's quadwords are
// read by name (a keyed read with a computed name costs several times more).
const zmmhNonZero = (r: Readonly<State>) =>
  nonZero(r['_q_ZMMReg[4]']) ||
  nonZero(r['_q_ZMMReg[5]']) ||
  nonZero(r['_q_ZMMReg[6]']) ||
  nonZero(r['_q_ZMMReg[7]']);
const hi16ZmmNonZero = (r: Readonly<State>) =>
  nonZero(r['_q_ZMMReg[0]']) ||
  nonZero(r['_q_ZMMReg[1]']) ||
  nonZero(r['_q_ZMMReg[2]']) ||
  nonZero(r['_q_ZMMReg[3]']) ||
  zmmhNonZero(r);

/** Opmask registers, ZMM upper halves of regs 0-15 and all of ZMM16-31 (x86_64). */
export const avx512 = vmsd({
  name: 'cpu/avx512',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) =>
    anyNonZero(list(s['env.opmask_regs'])) ||
    anyNonZeroBy(list(s['env.zmmh_regs']), zmmhNonZero) ||
    anyNonZeroBy(list(s['env.hi16_zmm_regs']), hi16ZmmNonZero),
  fields: [
    f.array('env.opmask_regs', k.u64, NB_OPMASK_REGS),
    f.structArray('env.zmmh_regs', zmmhReg, CPU_NB_REGS, { as: 'env.xmm_regs' }),
    f.structArray('env.hi16_zmm_regs', hi16ZmmReg, CPU_NB_REGS, { as: 'env.xmm_regs' }),
  ],
});

export const xss = vmsd({
  name: 'cpu/xss',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.xss']) !== 0n,
  fields: [f.u64('env.xss')],
});

export const umwait = vmsd({
  name: 'cpu/umwait',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => num(s['env.umwait']) !== 0,
  fields: [f.u32('env.umwait')],
});

const SAVE_TSC_KHZ = `${X86_MACHINE_CLASS}.save_tsc_khz`;

/** The machine class field save_tsc_khz is false for pc-*-2.5 and older. */
export const tscKhz = vmsd({
  name: 'cpu/tsc_khz',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s, ctx) => big(s['env.tsc_khz']) !== 0n && propOn(x(ctx), SAVE_TSC_KHZ, true),
  fields: [f.i64('env.tsc_khz')],
});

/** 2.12 sent it whenever non-zero; 3.0 added the x-migrate-smi-count gate (off for pc-*-2.11). */
export function msrSmiCount(gated: boolean) {
  return vmsd({
    name: 'cpu/msr_smi_count',
    version_id: 1,
    minimum_version_id: 1,
    needed: gated
      ? (s, ctx) =>
          cpuProp(x(ctx), 'x-migrate-smi-count', true) && big(s['env.msr_smi_count']) !== 0n
      : (s) => big(s['env.msr_smi_count']) !== 0n,
    fields: [f.u64('env.msr_smi_count')],
  });
}

export const pkru = vmsd({
  name: 'cpu/pkru',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => num(s['env.pkru']) !== 0,
  fields: [f.u32('env.pkru')],
});

export const pkrs = vmsd({
  name: 'cpu/pkrs',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => num(s['env.pkrs']) !== 0,
  fields: [f.u32('env.pkrs')],
});

export const specCtrl = vmsd({
  name: 'cpu/spec_ctrl',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.spec_ctrl']) !== 0n,
  fields: [f.u64('env.spec_ctrl')],
});

/** Always sent for CPU models with SVM TSC scaling. */
export const amdTscScaleMsr = vmsd({
  name: 'cpu/amd_tsc_scale_msr',
  version_id: 1,
  minimum_version_id: 1,
  needed: (_s, ctx) => cpuHas(x(ctx), 'svmTscScale'),
  fields: [f.u64('env.amd_tsc_scale_msr')],
});

export const mcgExtCtl = vmsd({
  name: 'cpu/mcg_ext_ctl',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s, ctx) => cpuHas(x(ctx), 'lmce') && big(s['env.mcg_ext_ctl']) !== 0n,
  fields: [f.u64('env.mcg_ext_ctl')],
});

export const intelPt = vmsd({
  name: 'cpu/intel_pt',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) =>
    big(s['env.msr_rtit_ctrl']) !== 0n ||
    big(s['env.msr_rtit_status']) !== 0n ||
    big(s['env.msr_rtit_output_base']) !== 0n ||
    big(s['env.msr_rtit_output_mask']) !== 0n ||
    big(s['env.msr_rtit_cr3_match']) !== 0n ||
    anyNonZero(list(s['env.msr_rtit_addrs'])),
  fields: [
    f.u64('env.msr_rtit_ctrl'),
    f.u64('env.msr_rtit_status'),
    f.u64('env.msr_rtit_output_base'),
    f.u64('env.msr_rtit_output_mask'),
    f.u64('env.msr_rtit_cr3_match'),
    f.array('env.msr_rtit_addrs', k.u64, MAX_RTIT_ADDRS),
  ],
});

export const virtSsbd = vmsd({
  name: 'cpu/virt_ssbd',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.virt_ssbd']) !== 0n,
  fields: [f.u64('env.virt_ssbd')],
});

/** TCG's own nested SVM with nested paging. The name's typo is ABI. */
export const svmNpt = vmsd({
  name: 'cpu/svn_npt',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s: Readonly<State>) => (num(s['env.hflags2']) & HF2_NPT_MASK) !== 0,
  fields: [f.u64('env.nested_cr3'), f.u32('env.nested_pg_mode')],
});

/** TCG's nested SVM virtual interrupt control (6.2+). */
export const svmGuest = vmsd({
  name: 'cpu/svm_guest',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s, ctx) => isTcg(x(ctx)) && num(s['env.int_ctl']) !== 0,
  fields: [f.u32('env.int_ctl')],
});

/** Always sent for models with TSX_CTRL in ARCH_CAPABILITIES. */
export const msrTsxCtrl = vmsd({
  name: 'cpu/msr_tsx_ctrl',
  version_id: 1,
  minimum_version_id: 1,
  needed: (_s, ctx) => cpuHas(x(ctx), 'tsxCtrl'),
  fields: [f.u32('env.tsx_ctrl')],
});

export const intelSgx = vmsd({
  name: 'cpu/intel_sgx',
  version_id: 1,
  minimum_version_id: 1,
  needed: (_s, ctx) => cpuHas(x(ctx), 'sgxLc'),
  fields: [f.array('env.msr_ia32_sgxlepubkeyhash', k.u64, 4)],
});

/**
 * QEMU sends the PDPTRs when KVM_GET_SREGS2 marked them valid, which KVM does exactly while the
 * guest uses PAE paging (CR0.PG, CR4.PAE, not long mode). TCG never sets pdptrs_valid.
 */
export const pdptrs = vmsd({
  name: 'cpu/pdptrs',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s: Readonly<State>, ctx) =>
    isKvm(x(ctx)) &&
    (big(s['env.cr[0]']) & CR0_PG_MASK) !== 0n &&
    (big(s['env.cr[4]']) & CR4_PAE_MASK) !== 0n &&
    (big(s['env.efer']) & EFER_LMA) === 0n,
  fields: [f.array('env.pdptrs', k.u64, 4)],
});

/** AMD's HWCR MSR (9.2+), sent when not zero. */
export const msrHwcr = vmsd({
  name: 'cpu/msr_hwcr',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => big(s['env.msr_hwcr']) !== 0n,
  fields: [f.u64('env.msr_hwcr')],
});

/** FRED MSRs (9.1+, x86_64): always sent for CPU models with FRED (CPUID.7.1:EAX.FRED). */
export const fred = vmsd({
  name: 'cpu/fred',
  version_id: 1,
  minimum_version_id: 1,
  needed: (_s, ctx) => cpuHas(x(ctx), 'fred'),
  fields: [
    f.u64('env.fred_rsp0'),
    f.u64('env.fred_rsp1'),
    f.u64('env.fred_rsp2'),
    f.u64('env.fred_rsp3'),
    f.u64('env.fred_stklvls'),
    f.u64('env.fred_ssp1'),
    f.u64('env.fred_ssp2'),
    f.u64('env.fred_ssp3'),
    f.u64('env.fred_config'),
  ],
});

export const XEN_NR_VIRQS = 24;

/** Xen HVM emulation under KVM (8.0+, CONFIG_XEN_EMU): sent only in that mode (xen_mode == XEN_EMULATE). */
export const xenVcpu = vmsd({
  name: 'cpu/xen_vcpu',
  version_id: 1,
  minimum_version_id: 1,
  needed: (_s, ctx) => isKvm(x(ctx)) && x(ctx).xenEmulate === true,
  fields: [
    f.u64('env.xen_vcpu_info_gpa'),
    f.u64('env.xen_vcpu_info_default_gpa'),
    f.u64('env.xen_vcpu_time_info_gpa'),
    f.u64('env.xen_vcpu_runstate_gpa'),
    f.u8('env.xen_vcpu_callback_vector'),
    f.array('env.xen_virq', k.u16, XEN_NR_VIRQS),
    f.u64('env.xen_singleshot_timer_ns'),
    f.u64('env.xen_periodic_timer_period'),
  ],
});

export const msrXfd = vmsd({
  name: 'cpu/msr_xfd',
  version_id: 1,
  minimum_version_id: 1,
  needed: (_s, ctx) => cpuHas(x(ctx), 'xfd'),
  fields: [f.u64('env.msr_xfd'), f.u64('env.msr_xfd_err')],
});

export const intelAmxXtile = vmsd({
  name: 'cpu/intel_amx_xtile',
  version_id: 1,
  minimum_version_id: 1,
  needed: (_s, ctx) => cpuHas(x(ctx), 'amxTile'),
  fields: [byteArray('env.xtilecfg', 64), byteArray('env.xtiledata', 8192)],
});

export const archLbr = vmsd({
  name: 'cpu/arch_lbr',
  version_id: 1,
  minimum_version_id: 1,
  needed: (_s, ctx) => cpuHas(x(ctx), 'archLbr'),
  fields: [
    f.u64('env.msr_lbr_ctl'),
    f.u64('env.msr_lbr_depth'),
    f.structArray('env.lbr_records', lbrRecordsVar, ARCH_LBR_NR_ENTRIES, { version: 1 }),
  ],
});

export const tripleFault = vmsd({
  name: 'cpu/triple_fault',
  version_id: 1,
  minimum_version_id: 1,
  needed: (s) => num(s['env.triple_fault_pending']) !== 0,
  fields: [f.u8('env.triple_fault_pending')],
});
