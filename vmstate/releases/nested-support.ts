/**
 * What each release does with a VM that uses nested virtualization, beyond its VMState: QEMU 3.1
 * and 4.0 refuse to migrate any KVM vCPU whose model exposes VMX (a migration blocker); 3.0 and
 * older migrate it and silently drop L1's VMX state; 4.1-5.0 carry VMX but drop SVM L2 state;
 * every real release drops the VMX preemption-timer deadline. These rules are functions of the
 * release's CpuFeatures, so designs get them too.
 */
import type { State } from '../../src/dsl';
import { initialState } from '../../src/engine/state';
import { HF_GUEST_MASK } from '../x86/cpu-fields';
import { cpuHas, isKvm, X86_CPU_TYPE, type X86Ctx } from '../x86/ctx';
import type { CpuFeatures } from '../x86/cpu';
import {
  INVALID_GPA,
  KVM_STATE_NESTED_FORMAT_SVM,
  KVM_STATE_NESTED_FORMAT_VMX,
  KVM_STATE_NESTED_GUEST_MODE,
  KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE,
  NESTED_STATE_HEADER_SIZE,
  type NestedState,
} from '../x86/kvm';
import { kvmNestedStateFull, PREEMPTION_TIMER_PROP } from '../x86/nested';
import { obj } from '../x86/state-access';
import type { VmStates } from './types';

/** The text of QEMU 3.1's blocker (target/i386/kvm.c, d98f26073b). */
export const VMX_MIGRATION_BLOCKER =
  'Nested VMX virtualization does not support live migration yet';

/** What the guest is doing with nested virtualization, read from the cpu state and the host. */
export interface NestedActivity {
  /** L1 executed VMXON (KVM reports a VMXON region). */
  readonly vmxOperation: boolean;
  /** L2 is running under SVM. */
  readonly svmGuest: boolean;
  /** KVM reports a VMX preemption-timer deadline. */
  readonly preemptionDeadline: boolean;
  readonly nested?: NestedState;
}

export function nestedActivity(cpu: Readonly<State> | undefined, ctx: X86Ctx): NestedActivity {
  const n = cpu ? (obj(cpu['env.nested_state']) as NestedState | undefined) : undefined;
  if (!n || !isKvm(ctx)) return { vmxOperation: false, svmGuest: false, preemptionDeadline: false };
  const vmx = n.format === KVM_STATE_NESTED_FORMAT_VMX && cpuHas(ctx, 'vmx');
  return {
    vmxOperation: vmx && n['hdr.vmx.vmxon_pa'] !== INVALID_GPA,
    svmGuest:
      n.format === KVM_STATE_NESTED_FORMAT_SVM &&
      cpuHas(ctx, 'svm') &&
      (n.flags & KVM_STATE_NESTED_GUEST_MODE) !== 0,
    preemptionDeadline: vmx && (n['hdr.vmx.flags'] & KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE) !== 0,
    nested: n,
  };
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

export function nestedBlockers(blockVmx: boolean) {
  return (state: VmStates, ctx: X86Ctx): string | undefined =>
    blockVmx && isKvm(ctx) && cpuHas(ctx, 'vmx') && state.cpu !== undefined
      ? VMX_MIGRATION_BLOCKER
      : undefined;
}

export function nestedLosses(release: string, features: CpuFeatures) {
  return (state: VmStates, ctx: X86Ctx): string | undefined => {
    const a = nestedActivity(state.cpu, ctx);
    const design = features.nested;
    if (a.vmxOperation && !design) {
      const n = a.nested!;
      const vmcs =
        n.size > NESTED_STATE_HEADER_SIZE
          ? `, current VMCS ${hex(n['hdr.vmx.vmcs12_pa'])} with its vmcs12`
          : '';
      const l2 = n.flags & KVM_STATE_NESTED_GUEST_MODE ? ', L2 running' : '';
      return (
        `QEMU ${release} has no nested-state migration (cpu/nested_state arrived in 4.1) and no blocker (that came in 3.1): ` +
        `it migrates this VM but drops L1's VMX state (VMXON region ${hex(n['hdr.vmx.vmxon_pa'])}${vmcs}${l2}); ` +
        `the destination resumes the vCPU outside VMX operation`
      );
    }
    if (a.svmGuest && !design?.carriesSvm) {
      return (
        `QEMU ${release} cannot carry SVM nested state (cpu/kvm_nested_state/svm arrived in 5.1) and has no SVM blocker: ` +
        `it migrates this VM in the middle of L2 without vmcb12 (vmcb_pa ${hex(a.nested!['hdr.svm.vmcb_pa'])}); ` +
        `the destination resumes L2's registers as if they were L1's`
      );
    }
    if (a.preemptionDeadline && a.vmxOperation && design && !design.carriesPreemptionTimer(ctx)) {
      const why = design.carriesPreemptionTimer({ ...ctx, props: {} })
        ? `this machine type sets ${X86_CPU_TYPE}.${design.preemptionTimerProp ?? PREEMPTION_TIMER_PROP}=off`
        : `QEMU ${release} does not migrate hdr.vmx.flags / hdr.vmx.preemption_timer_deadline`;
      return (
        `KVM reports a VMX-preemption timer deadline (${a.nested!['hdr.vmx.preemption_timer_deadline']}) but ${why}: ` +
        `the destination re-arms L2's timer from vmcs12's full value, so L1's timer fires late`
      );
    }
    return undefined;
  };
}

const freshNested = (): State => initialState(kvmNestedStateFull);

/** The cpu state as a release that cannot carry it holds it: no nested buffer, guest mode never seen. */
export function nestedObserve(features: CpuFeatures) {
  return (state: VmStates, ctx: X86Ctx): VmStates => {
    const a = nestedActivity(state.cpu, ctx);
    const design = features.nested;
    const dropAll = (a.vmxOperation && !design) || (a.svmGuest && !design?.carriesSvm);
    const dropTimer =
      a.preemptionDeadline && design !== undefined && !design.carriesPreemptionTimer(ctx);
    if (!dropAll && !dropTimer) return state;
    const cpu: State = { ...state.cpu };
    if (dropAll) {
      // Before 4.1 (and for SVM before 5.1) QEMU had no nested buffer: HF_GUEST_MASK was only ever set from it.
      cpu['env.hflags'] = ((cpu['env.hflags'] as number) & ~HF_GUEST_MASK) >>> 0;
      cpu['env.nested_state'] = freshNested();
    } else {
      cpu['env.nested_state'] = {
        ...(cpu['env.nested_state'] as State),
        'hdr.vmx.flags': 0,
        'hdr.vmx.preemption_timer_deadline': 0n,
      };
    }
    return { ...state, cpu };
  };
}
