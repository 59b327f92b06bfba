/**
 * Values of the Linux KVM nested-state ABI (arch/x86/include/uapi/asm/kvm.h, struct
 * kvm_nested_state and friends). Written out here as facts; every one is part of the
 * kernel's stable userspace ABI and never changes meaning.
 */

/** `format`: Intel VMX state (vmcs12 pages follow the header). */
export const KVM_STATE_NESTED_FORMAT_VMX = 0;
/** `format`: AMD SVM state (a vmcb12 page follows the header). */
export const KVM_STATE_NESTED_FORMAT_SVM = 1;

/** `flags`: the vCPU is running L2. */
export const KVM_STATE_NESTED_GUEST_MODE = 0x0001;
/** `flags`: an emulated VMLAUNCH/VMRESUME/VMRUN has not finished entering L2. */
export const KVM_STATE_NESTED_RUN_PENDING = 0x0002;
/** `flags` (VMX): L1 uses a Hyper-V enlightened VMCS. */
export const KVM_STATE_NESTED_EVMCS = 0x0004;
/** `flags` (VMX): a monitor-trap-flag VM exit to L1 is pending. */
export const KVM_STATE_NESTED_MTF_PENDING = 0x0008;
/** `flags` (SVM): the global interrupt flag is set. */
export const KVM_STATE_NESTED_GIF_SET = 0x0100;

/** Every `flags` bit KVM_SET_NESTED_STATE accepts at all (the generic x86 check). */
export const KVM_STATE_NESTED_KNOWN_FLAGS =
  KVM_STATE_NESTED_GUEST_MODE |
  KVM_STATE_NESTED_RUN_PENDING |
  KVM_STATE_NESTED_EVMCS |
  KVM_STATE_NESTED_MTF_PENDING |
  KVM_STATE_NESTED_GIF_SET;

/** `hdr.vmx.smm.flags`: the SMI arrived while L2 ran; RSM goes back to guest mode. */
export const KVM_STATE_NESTED_SMM_GUEST_MODE = 0x0001;
/** `hdr.vmx.smm.flags`: the SMI arrived in VMX operation; RSM re-enters it. */
export const KVM_STATE_NESTED_SMM_VMXON = 0x0002;

/** `hdr.vmx.flags`: `hdr.vmx.preemption_timer_deadline` is valid. */
export const KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE = 0x0001;

/** Size of each VMX data page (vmcs12, shadow_vmcs12). */
export const KVM_STATE_NESTED_VMX_VMCS_SIZE = 0x1000;
/** Size of the SVM data page (vmcb12). */
export const KVM_STATE_NESTED_SVM_VMCB_SIZE = 0x1000;

/** An address field holding all ones means "none" (no VMXON region, no current VMCS). */
export const INVALID_GPA = 0xffff_ffff_ffff_ffffn;

/**
 * Byte offsets inside struct kvm_nested_state. The fixed part is 8 bytes of common header
 * plus a 120-byte union of the per-format headers, i.e. sizeof(struct kvm_nested_state) = 128;
 * the data union starts right after it.
 */
export const NESTED_STATE_OFFSETS = {
  flags: 0,
  format: 2,
  size: 4,
  hdr: 8,
  'hdr.vmx.vmxon_pa': 8,
  'hdr.vmx.vmcs12_pa': 16,
  'hdr.vmx.smm.flags': 24,
  'hdr.vmx.pad': 26,
  'hdr.vmx.flags': 28,
  'hdr.vmx.preemption_timer_deadline': 32,
  /** First header byte past struct kvm_vmx_nested_state_hdr (40 bytes from offset 0). */
  vmxHdrEnd: 40,
  'hdr.svm.vmcb_pa': 8,
  /** First header byte past struct kvm_svm_nested_state_hdr. */
  svmHdrEnd: 16,
  data: 128,
  'data.vmx[0].vmcs12': 128,
  'data.vmx[0].shadow_vmcs12': 128 + KVM_STATE_NESTED_VMX_VMCS_SIZE,
  'data.svm[0].vmcb12': 128,
} as const;

/** sizeof(struct kvm_nested_state): the header every blob has. */
export const NESTED_STATE_HEADER_SIZE = NESTED_STATE_OFFSETS.data;

/** The sizes KVM_GET_NESTED_STATE reports for VMX: no vmcs12, vmcs12, vmcs12 + shadow vmcs12. */
export const VMX_SIZE_HEADER_ONLY = NESTED_STATE_HEADER_SIZE;
export const VMX_SIZE_WITH_VMCS12 = NESTED_STATE_HEADER_SIZE + KVM_STATE_NESTED_VMX_VMCS_SIZE;
export const VMX_SIZE_WITH_SHADOW = NESTED_STATE_HEADER_SIZE + 2 * KVM_STATE_NESTED_VMX_VMCS_SIZE;
/** The sizes KVM_GET_NESTED_STATE reports for SVM: outside L2, in L2. */
export const SVM_SIZE_HEADER_ONLY = NESTED_STATE_HEADER_SIZE;
export const SVM_SIZE_WITH_VMCB12 = NESTED_STATE_HEADER_SIZE + KVM_STATE_NESTED_SVM_VMCB_SIZE;

/** Largest guest-physical address width x86 allows (MAXPHYADDR <= 52). */
export const MAX_PHYS_ADDR_BITS = 52;
export const PAGE_SIZE = 0x1000;
