import {
  INVALID_GPA,
  KVM_STATE_NESTED_FORMAT_SVM,
  KVM_STATE_NESTED_FORMAT_VMX,
  NESTED_STATE_OFFSETS as OFF,
} from './constants';
import type { NestedState } from './nested-state';

/**
 * The needed() callbacks of QEMU's nested-state VMState tree (target/i386/machine.c, QEMU 4.1+;
 * SVM from 5.1), as pure functions of the state. Each subsection is only asked when its parent
 * is sent, so a child's test does not repeat the parent's (QEMU's vmcs12 test looks at `size`
 * only and relies on the vmx parent having checked the format).
 */

/** cpu/kvm_nested_state/vmx: format is VMX and L1 executed VMXON (vmxon_pa is not -1). */
export function vmxNestedStateNeeded(s: Pick<NestedState, 'format' | 'hdr.vmx.vmxon_pa'>): boolean {
  return s.format === KVM_STATE_NESTED_FORMAT_VMX && s['hdr.vmx.vmxon_pa'] !== INVALID_GPA;
}

/** cpu/kvm_nested_state/vmx/vmcs12: size > offsetof(struct kvm_nested_state, data.vmx[0].vmcs12) = 128. */
export function vmxVmcs12Needed(s: Pick<NestedState, 'size'>): boolean {
  return s.size > OFF['data.vmx[0].vmcs12'];
}

/** cpu/kvm_nested_state/vmx/shadow_vmcs12: size > offsetof(..., data.vmx[0].shadow_vmcs12) = 4224. */
export function vmxShadowVmcs12Needed(s: Pick<NestedState, 'size'>): boolean {
  return s.size > OFF['data.vmx[0].shadow_vmcs12'];
}

/**
 * cpu/kvm_nested_state/svm (carries hdr.svm.vmcb_pa and data.svm[0].vmcb12 together; there is no
 * separate vmcb12 subsection): format is SVM and size > offsetof(..., data) = 128, i.e. in L2.
 */
export function svmNestedStateNeeded(s: Pick<NestedState, 'format' | 'size'>): boolean {
  return s.format === KVM_STATE_NESTED_FORMAT_SVM && s.size > OFF.data;
}

/**
 * cpu/nested_state: QEMU also requires that it allocated env->nested_state at all (KVM has
 * KVM_CAP_NESTED_STATE and the CPU model exposes VMX, or SVM from 5.1) — the caller's `present`.
 * `withSvm` false gives QEMU 4.1-5.0, which only knew the VMX half.
 */
export function nestedStateNeeded(s: NestedState | null | undefined, withSvm = true): boolean {
  if (!s) return false;
  return vmxNestedStateNeeded(s) || (withSvm && svmNestedStateNeeded(s));
}
