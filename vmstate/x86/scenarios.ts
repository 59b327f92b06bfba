/**
 * Whole-VM states (one vCPU: timer, cpu_common, cpu) for the situations nested virtualization
 * migration has to get right, with the host facts (accelerator, CPU model, KVM capabilities)
 * each one implies. Register values are those of a 64-bit Linux guest (and a 64-bit L2); the
 * nested pages are real layouts built with the KVM ABI module, every value chosen the way KVM
 * would report it. Deterministic: golden streams are generated from these.
 */
import type { State } from '../../src/dsl';
import { HF_GUEST_MASK, HF2_GIF_MASK } from './cpu-fields';
import type { CpuState } from './cpu';
import type { X86Ctx } from './ctx';
import {
  buildNestedState,
  buildVmcb,
  buildVmcs12,
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
  EFER_SVME,
  INVALID_GPA,
  KVM_STATE_NESTED_FORMAT_SVM,
  KVM_STATE_NESTED_FORMAT_VMX,
  KVM_STATE_NESTED_GIF_SET,
  KVM_STATE_NESTED_GUEST_MODE,
  KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE,
  noNestedGuestState,
  parseNestedState,
  PIN_BASED_VMX_PREEMPTION_TIMER,
  SECONDARY_EXEC_SHADOW_VMCS,
  SVM_INTERCEPT_WORD4_VMRUN,
  SVM_NESTED_CTL_NP_ENABLE,
  SVM_SIZE_WITH_VMCB12,
  VMCS12_REVISION,
  VMX_SIZE_HEADER_ONLY,
  VMX_SIZE_WITH_SHADOW,
  VMX_SIZE_WITH_VMCS12,
  type NestedState,
  type Vmcs12Fields,
} from './kvm';
import { cpuResetState } from './reset';

/** A VM's device states by section name (instance 0 each: one vCPU). */
export type VmState = {
  timer: State;
  cpu_common: State;
  cpu: CpuState;
};

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  /** The host the VM runs on: accelerator, CPU model features, kernel capabilities. */
  readonly ctx: X86Ctx;
  readonly state: VmState;
}

// ---- host configurations ----

const intelHost = (vmx: boolean): X86Ctx => ({
  accel: 'kvm',
  cpu: { vmx },
  kvm: { nestedStateMax: VMX_SIZE_WITH_SHADOW, exceptionPayload: true },
});
const amdHost: X86Ctx = {
  accel: 'kvm',
  cpu: { svm: true },
  kvm: { nestedStateMax: SVM_SIZE_WITH_VMCB12, exceptionPayload: true },
};

// ---- register values ----

/** HF_* bits of a 64-bit kernel at CPL 0: CS32, SS32, PE, MP, LMA, CS64, OSFXSR. */
const HFLAGS_LONG_MODE_KERNEL =
  (1 << 4) | (1 << 5) | (1 << 7) | (1 << 9) | (1 << 14) | (1 << 15) | (1 << 22);
const HF_SVME_MASK = 1 << 20;
const CR0_LINUX = 0x80050033n; // PG WP NE ET MP PE
const CR4_LINUX = 0x3606f0n; // PSE PAE MCE PGE OSFXSR OSXMMEXCPT FSGSBASE OSXSAVE SMEP SMAP
const CR4_VMXE = 1n << 13n;
const EFER_LINUX = 0xd01n; // SCE LME LMA NXE
const CODE64 = 0x00a09b00; // G L P S, execute/read accessed, DPL 0
const DATA = 0x00c09300; // G B P S, read/write accessed

function seg(selector: number, flags: number, base = 0n, limit = 0xffffffff) {
  return { selector, base, limit, flags };
}

/** The vCPU registers of a 64-bit Linux kernel (L1, or an L2 with its own addresses). */
function linuxCpu(
  ctx: X86Ctx,
  v: {
    rip: bigint;
    rsp: bigint;
    cr3: bigint;
    gsBase: bigint;
    tsc: bigint;
    cr4?: bigint;
    efer?: bigint;
  },
): CpuState {
  const s = cpuResetState(ctx);
  // RAX RCX RDX RBX RSP RBP RSI RDI R8..R15
  s['env.regs'] = [
    0x0n,
    0xffffffff82a13c40n,
    0x1n,
    0x0n,
    v.rsp,
    v.rsp + 0x48n,
    0xffff888003a4c000n,
    0x0n,
    0x0n,
    0x0n,
    0x0n,
    0x0n,
    0x0n,
    0x0n,
    0x0n,
    0x0n,
  ];
  s['env.eip'] = v.rip;
  s['env.eflags'] = 0x246n;
  s['env.hflags'] = HFLAGS_LONG_MODE_KERNEL;
  s['env.segs'] = [
    seg(0, DATA),
    seg(0x10, CODE64),
    seg(0x18, DATA),
    seg(0, DATA),
    seg(0, DATA, 0n, 0xffffffff),
    seg(0, DATA, v.gsBase),
  ];
  s['env.ldt'] = seg(0, 0x8200, 0n, 0xffff);
  s['env.tr'] = seg(0x40, 0x8b00, 0xfffffe0000003000n, 0x4087);
  s['env.gdt'] = seg(0, 0, 0xfffffe0000001000n, 0x7f);
  s['env.idt'] = seg(0, 0, 0xfffffe0000000000n, 0xfff);
  s['env.sysenter_cs'] = 0x10;
  s['env.sysenter_esp'] = 0xfffffe0000003000n;
  s['env.sysenter_eip'] = 0xffffffff81c015d0n;
  s['env.cr[0]'] = CR0_LINUX;
  s['env.cr[3]'] = v.cr3;
  s['env.cr[4]'] = v.cr4 ?? CR4_LINUX;
  s['env.efer'] = v.efer ?? EFER_LINUX;
  s['env.star'] = 0x0023001000000000n;
  s['env.lstar'] = 0xffffffff81c00080n;
  s['env.cstar'] = 0xffffffff81c01700n;
  s['env.fmask'] = 0x47700n;
  s['env.kernelgsbase'] = 0n;
  s['env.mtrr_deftype'] = 0xc06n;
  s['env.mp_state'] = 0; // KVM_MP_STATE_RUNNABLE
  s['env.tsc'] = v.tsc;
  s['env.mcg_cap'] = 0x100000an;
  s['env.tsc_aux'] = 0n;
  s['env.system_time_msr'] = 0x3a401001n; // kvmclock page, enable bit
  s['env.wall_clock_msr'] = 0x2a3c000n;
  s['env.xcr0'] = 0x7n; // x87 SSE AVX
  s['env.xstate_bv'] = 0x7n;
  // KVM paravirtual MSRs a Linux guest enables.
  s['env.async_pf_en_msr'] = 0x3a432041n;
  s['env.pv_eoi_en_msr'] = 0x3a4320c1n;
  s['env.steal_time_msr'] = 0x3a432001n;
  s['env.tsc_khz'] = 2_400_000n;
  return s;
}

const timerState = (ticks: bigint, clock: bigint): State => ({
  cpu_ticks_offset: ticks,
  cpu_clock_offset: clock,
});
const cpuCommonState = (): State => ({
  halted: 0,
  interrupt_request: 0,
  exception_index: -1,
  crash_occurred: false,
});

// ---- nested-state pages ----

/** vmcs12 of an L1 hypervisor running a 64-bit L2 with EPT (controls as KVM L1s commonly set them). */
function vmcs12For(
  l2: { rip: bigint; rsp: bigint; cr3: bigint },
  extra: Partial<Vmcs12Fields> = {},
): Uint8Array {
  return buildVmcs12({
    revision_id: VMCS12_REVISION,
    launch_state: 1,
    io_bitmap_a: 0x10a3e000n,
    io_bitmap_b: 0x10a3f000n,
    msr_bitmap: 0x10a40000n,
    tsc_offset: 0xfffff8a3c1d20000n,
    virtual_apic_page_addr: 0x10a41000n,
    ept_pointer: 0x10a42000n | 0x5en, // WB, 4-level walk, A/D flags
    vmcs_link_pointer: INVALID_GPA,
    guest_ia32_pat: 0x0007040600070406n,
    guest_ia32_efer: EFER_LINUX,
    host_ia32_pat: 0x0007040600070406n,
    host_ia32_efer: EFER_LINUX,
    cr0_guest_host_mask: 0xfffffffffffffff7n,
    cr4_guest_host_mask: 0xfffffffffffef871n,
    cr0_read_shadow: CR0_LINUX,
    cr4_read_shadow: CR4_LINUX,
    guest_cr0: CR0_LINUX,
    guest_cr3: l2.cr3,
    guest_cr4: CR4_LINUX,
    guest_gs_base: 0xffff88803ec00000n,
    guest_tr_base: 0xfffffe0000003000n,
    guest_gdtr_base: 0xfffffe0000001000n,
    guest_idtr_base: 0xfffffe0000000000n,
    guest_dr7: 0x400n,
    guest_rsp: l2.rsp,
    guest_rip: l2.rip,
    guest_rflags: 0x246n,
    host_cr0: CR0_LINUX,
    host_cr3: 0x10a60000n,
    host_cr4: CR4_LINUX | CR4_VMXE,
    host_gs_base: 0xffff88807dc00000n,
    host_tr_base: 0xfffffe000003e000n,
    host_gdtr_base: 0xfffffe000003c000n,
    host_idtr_base: 0xfffffe0000000000n,
    host_rsp: 0xffffc900001d7e88n,
    host_rip: 0xffffffffc0a2c4b0n, // kvm_intel's vmx_vmexit
    pin_based_vm_exec_control: 0x29, // external-interrupt exiting, NMI exiting, virtual NMIs
    cpu_based_vm_exec_control: (0xb5a06dfa | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) >>> 0,
    exception_bitmap: 0x60042,
    vm_exit_controls: 0x2fefff,
    vm_entry_controls: 0xd3ff,
    secondary_vm_exec_control: 0x2a2, // EPT, RDTSCP, VPID, unrestricted guest... (no shadowing)
    vm_exit_reason: 30, // I/O instruction
    exit_qualification: 0x3f80008n,
    vm_exit_instruction_len: 1,
    guest_es_limit: 0xffffffff,
    guest_cs_limit: 0xffffffff,
    guest_ss_limit: 0xffffffff,
    guest_ds_limit: 0xffffffff,
    guest_fs_limit: 0xffffffff,
    guest_gs_limit: 0xffffffff,
    guest_ldtr_limit: 0xffff,
    guest_tr_limit: 0x4087,
    guest_gdtr_limit: 0x7f,
    guest_idtr_limit: 0xfff,
    guest_es_ar_bytes: 0xc093,
    guest_cs_ar_bytes: 0xa09b,
    guest_ss_ar_bytes: 0xc093,
    guest_ds_ar_bytes: 0xc093,
    guest_fs_ar_bytes: 0xc093,
    guest_gs_ar_bytes: 0xc093,
    guest_ldtr_ar_bytes: 0x10000, // unusable
    guest_tr_ar_bytes: 0x8b,
    virtual_processor_id: 1,
    guest_cs_selector: 0x10,
    guest_ss_selector: 0x18,
    guest_tr_selector: 0x40,
    host_cs_selector: 0x10,
    host_ss_selector: 0x18,
    host_tr_selector: 0x40,
    ...extra,
  });
}

/** Parsed back through the KVM ABI module: a state KVM_GET_NESTED_STATE could have produced. */
const checked = (n: NestedState): CpuState['env.nested_state'] => ({
  ...parseNestedState(buildNestedState(n)),
});

const L1 = {
  rip: 0xffffffffc0a2c4b0n,
  rsp: 0xffffc900001d7e88n,
  cr3: 0x10a60000n,
  gsBase: 0xffff88807dc00000n,
  tsc: 0x1b2e3f4a5c6dn,
};
const L2 = {
  rip: 0xffffffff81b8e4f6n,
  rsp: 0xffffffff82a03e28n,
  cr3: 0x4a1e000n,
  gsBase: 0xffff88803ec00000n,
  tsc: 0x1b2e3f4a5c6dn - 0x75c3e2e0000n,
};

/** A KVM guest whose CPU model exposes neither VMX nor SVM. */
function noNested(): Scenario {
  const ctx = intelHost(false);
  return {
    name: 'no-nested',
    summary: 'KVM guest, no VMX/SVM in its CPU model: no nested state anywhere',
    ctx,
    state: {
      timer: timerState(0n, 1_234_567_890n),
      cpu_common: cpuCommonState(),
      cpu: linuxCpu(ctx, L1),
    },
  };
}

/** VMX in CPUID, but L1 never executed VMXON (KVM reports vmxon_pa -1). */
function vmxIdle(): Scenario {
  const ctx = intelHost(true);
  const cpu = linuxCpu(ctx, L1);
  cpu['env.msr_ia32_feature_control'] = 0x5n; // firmware: locked, VMXON outside SMX allowed
  cpu['env.nested_state'] = checked({
    ...noNestedGuestState(KVM_STATE_NESTED_FORMAT_VMX),
    size: VMX_SIZE_HEADER_ONLY,
  });
  return {
    name: 'vmx-idle',
    summary: 'VMX exposed to the guest, never used (no VMXON): nothing nested to migrate',
    ctx,
    state: { timer: timerState(0n, 1_234_567_890n), cpu_common: cpuCommonState(), cpu },
  };
}

/** L1 in VMX root operation with a current VMCS: it runs an L2 but is handling an exit right now. */
function vmxRoot(): Scenario {
  const ctx = intelHost(true);
  const cpu = linuxCpu(ctx, { ...L1, cr4: CR4_LINUX | CR4_VMXE });
  cpu['env.msr_ia32_feature_control'] = 0x5n;
  cpu['env.nested_state'] = checked({
    ...noNestedGuestState(KVM_STATE_NESTED_FORMAT_VMX),
    size: VMX_SIZE_WITH_VMCS12,
    'hdr.vmx.vmxon_pa': 0x10a3c000n,
    'hdr.vmx.vmcs12_pa': 0x10a3d000n,
    'data.vmx[0].vmcs12': vmcs12For(L2),
  });
  return {
    name: 'vmx-root',
    summary:
      'L1 in VMX root mode after VMXON, with a current vmcs12 (its L2 is not running right now)',
    ctx,
    state: { timer: timerState(0n, 2_345_678_901n), cpu_common: cpuCommonState(), cpu },
  };
}

/** L2 running, L1 uses VMCS shadowing: the vmcs12 link pointer names a shadow VMCS KVM also exports. */
function vmxL2Shadow(): Scenario {
  const ctx = intelHost(true);
  const cpu = linuxCpu(ctx, L2); // KVM reports L2's registers while the vCPU is in guest mode
  cpu['env.hflags'] = HFLAGS_LONG_MODE_KERNEL | HF_GUEST_MASK;
  cpu['env.msr_ia32_feature_control'] = 0x5n;
  const shadow = buildVmcs12({
    revision_id: VMCS12_REVISION,
    shadow_vmcs: 1,
    guest_rip: 0xffffffff81000000n,
    guest_cr3: 0x2b0000n,
  });
  cpu['env.nested_state'] = checked({
    ...noNestedGuestState(KVM_STATE_NESTED_FORMAT_VMX),
    flags: KVM_STATE_NESTED_GUEST_MODE,
    size: VMX_SIZE_WITH_SHADOW,
    'hdr.vmx.vmxon_pa': 0x10a3c000n,
    'hdr.vmx.vmcs12_pa': 0x10a3d000n,
    'data.vmx[0].vmcs12': vmcs12For(L2, {
      secondary_vm_exec_control: 0x2a2 | SECONDARY_EXEC_SHADOW_VMCS,
      vmcs_link_pointer: 0x10a43000n,
      vmread_bitmap: 0x10a44000n,
      vmwrite_bitmap: 0x10a45000n,
      vm_exit_reason: 0,
      exit_qualification: 0n,
    }),
    'data.vmx[0].shadow_vmcs12': shadow,
  });
  return {
    name: 'vmx-l2-shadow',
    summary:
      'L2 running under VMX; L1 uses VMCS shadowing, so vmcs12 and the shadow vmcs12 both travel',
    ctx,
    state: { timer: timerState(0n, 3_456_789_012n), cpu_common: cpuCommonState(), cpu },
  };
}

/** L2 running under SVM with nested paging; GIF set. */
function svmL2(): Scenario {
  const ctx = amdHost;
  const cpu = linuxCpu(ctx, { ...L2, efer: EFER_LINUX });
  // KVM reports GUEST_MODE in hflags and GIF_SET in hflags2; L1's EFER.SVME is in the vmcb12 save area.
  cpu['env.hflags'] = HFLAGS_LONG_MODE_KERNEL | HF_GUEST_MASK | HF_SVME_MASK;
  cpu['env.hflags2'] = HF2_GIF_MASK;
  const vmcb12 = buildVmcb({
    'control.intercept_exceptions': 0x4_0000, // #MC
    'control.intercept_word3': 0x8e7f_ffff >>> 0,
    'control.intercept_word4': SVM_INTERCEPT_WORD4_VMRUN | 0x3e,
    'control.iopm_base_pa': 0x10b00000n,
    'control.msrpm_base_pa': 0x10b04000n,
    'control.tsc_offset': 0xfffff8a3c1d20000n,
    'control.asid': 1,
    'control.int_ctl': 1 << 24, // V_INTR_MASKING
    'control.nested_ctl': SVM_NESTED_CTL_NP_ENABLE,
    'control.nested_cr3': 0x10b08000n,
    'control.exit_code': 0x7bn, // last exit: IOIO
    'control.next_rip': L2.rip,
    'save.efer': EFER_LINUX | EFER_SVME,
    'save.cr0': CR0_LINUX,
    'save.cr3': L1.cr3,
    'save.cr4': CR4_LINUX,
    'save.rflags': 0x2n,
    'save.rip': 0xffffffffc0b31a2fn, // kvm_amd's __svm_vcpu_run after VMRUN
    'save.rsp': L1.rsp,
    'save.rax': 0x10b0c000n, // VMRUN's operand: this vmcb12
    'save.g_pat': 0x0007040600070406n,
  });
  cpu['env.nested_state'] = checked({
    ...noNestedGuestState(KVM_STATE_NESTED_FORMAT_SVM),
    flags: KVM_STATE_NESTED_GUEST_MODE | KVM_STATE_NESTED_GIF_SET,
    size: SVM_SIZE_WITH_VMCB12,
    'hdr.svm.vmcb_pa': 0x10b0c000n,
    'data.svm[0].vmcb12': vmcb12,
  });
  return {
    name: 'svm-l2',
    summary:
      'L2 running under AMD SVM (nested paging, GIF set): vmcb_pa and the vmcb12 page travel',
    ctx,
    state: { timer: timerState(0n, 4_567_890_123n), cpu_common: cpuCommonState(), cpu },
  };
}

/** L2 running with L1's VMX-preemption timer armed: KVM (5.8+) reports the absolute deadline. */
function vmxL2PreemptionTimer(): Scenario {
  const ctx = intelHost(true);
  const cpu = linuxCpu(ctx, L2);
  cpu['env.hflags'] = HFLAGS_LONG_MODE_KERNEL | HF_GUEST_MASK;
  cpu['env.msr_ia32_feature_control'] = 0x5n;
  cpu['env.nested_state'] = checked({
    ...noNestedGuestState(KVM_STATE_NESTED_FORMAT_VMX),
    flags: KVM_STATE_NESTED_GUEST_MODE,
    size: VMX_SIZE_WITH_VMCS12,
    'hdr.vmx.vmxon_pa': 0x10a3c000n,
    'hdr.vmx.vmcs12_pa': 0x10a3d000n,
    'hdr.vmx.flags': KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE,
    'hdr.vmx.preemption_timer_deadline': 0x1b2e4a7c3e00n, // in L1 TSC units scaled by the timer rate
    'data.vmx[0].vmcs12': vmcs12For(L2, {
      pin_based_vm_exec_control: 0x29 | PIN_BASED_VMX_PREEMPTION_TIMER,
      vm_exit_controls: 0x2fefff | 0x400000, // save VMX-preemption timer value
      vmx_preemption_timer_value: 0x2f0000,
      vm_exit_reason: 0,
      exit_qualification: 0n,
    }),
  });
  return {
    name: 'vmx-l2-preemption-timer',
    summary:
      'L2 running under VMX with the VMX-preemption timer armed: KVM reports its deadline in hdr.vmx',
    ctx,
    state: { timer: timerState(0n, 5_678_901_234n), cpu_common: cpuCommonState(), cpu },
  };
}

const BUILDERS = [noNested, vmxIdle, vmxRoot, vmxL2Shadow, svmL2, vmxL2PreemptionTimer];

/** Every scenario, freshly built (callers may edit what they get). */
export function scenarios(): Scenario[] {
  return BUILDERS.map((b) => b());
}

export const SCENARIO_NAMES: readonly string[] = scenarios().map((s) => s.name);

export function scenario(name: string): Scenario | undefined {
  return scenarios().find((s) => s.name === name);
}
