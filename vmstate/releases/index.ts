/**
 * The simulated QEMU releases, by name. Each is QEMU's real `cpu` subsection list and gates for
 * that release (vmstate/x86/cpu.ts), its machine types, and its nested-virtualization behaviour;
 * `next` is our own release after 7.2 that also migrates the VMX preemption-timer deadline.
 */
import { subsectionsDesign } from '../x86/nested';
import { NEXT_PC_COMPAT_7_2 } from './machines';
import { defineRelease } from './release';
import type { Release } from './types';

const VMX_ONLY = subsectionsDesign({ svm: false, preemptionTimer: false });
const VMX_SVM = subsectionsDesign({ svm: true, preemptionTimer: false });
const VMX_SVM_TIMER = subsectionsDesign({ svm: true, preemptionTimer: true });

const list: Release[] = [
  defineRelease({
    version: '3.0',
    summary: 'no nested state; a VMX/SVM guest migrates and silently loses its L1/L2 state',
  }),
  defineRelease({
    version: '3.1',
    summary:
      'still no nested state, but refuses to migrate a KVM vCPU whose model exposes VMX (migration blocker)',
    blockVmx: true,
  }),
  defineRelease({ version: '4.0', summary: 'as 3.1', blockVmx: true }),
  defineRelease({
    version: '4.1',
    summary:
      'nested VMX state as cpu/nested_state subsections (vmx, vmcs12, shadow_vmcs12); cpu/exception_info; blocker gone',
    nested: VMX_ONLY,
  }),
  defineRelease({
    version: '5.0',
    summary: "as 4.1 plus 4.2's poll_control_msr, umwait, msr_tsx_ctrl",
    nested: VMX_ONLY,
  }),
  defineRelease({
    version: '5.1',
    summary: 'adds cpu/kvm_nested_state/svm (nested SVM state)',
    nested: VMX_SVM,
  }),
  defineRelease({
    version: '7.2',
    summary: 'the 43-subsection cpu list of QEMU 7.2 (the real sample streams)',
    nested: VMX_SVM,
  }),
  defineRelease({
    version: 'next',
    summary:
      'our release after 7.2: migrates the VMX preemption-timer deadline in cpu/kvm_nested_state/vmx/preemption_timer, ' +
      'sent only when hdr.vmx.flags says KVM has one, and never for pc-*-7.2 and older machine types',
    nested: VMX_SVM_TIMER,
    extraCompat: { '7.2': NEXT_PC_COMPAT_7_2 },
  }),
];

export const releases: Readonly<Record<string, Release>> = Object.fromEntries(
  list.map((r) => [r.name, r]),
);
export const RELEASE_NAMES: readonly string[] = list.map((r) => r.name);

export { designs, DESIGN_NAMES } from '../designs';
export type { Release, CatalogSection, MachineType, CompatProp, VmStates } from './types';
export { sectionKey } from './types';
