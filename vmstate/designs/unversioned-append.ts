/**
 * Design alternative "unversioned-append" — deliberately wrong. It carries the VMX
 * preemption-timer deadline by appending hdr.vmx.flags and hdr.vmx.preemption_timer_deadline
 * to the fields of the existing `cpu/kvm_nested_state/vmx` subsection, keeping its version at
 * 1 and adding no subsection. Every 4.1+ receiver then reads the vmx fields it knows, finds
 * 12 bytes it does not expect where the next subsection or the section footer should be, and
 * fails (or, worse, misreads them if they happen to look like a subsection header). Nothing in
 * the stream tells old and new layouts apart, which is why QEMU never does this.
 */
import { f, vmsd, type AnyVMSDesc } from '../../src/dsl';
import {
  kvmNestedStateDescription,
  nestedStateSubsection,
  shadowVmcs12Subsection,
  svmSubsection,
  vmcs12Subsection,
  vmxHeaderFields,
  type NestedDesign,
} from '../x86/nested';
import { vmxNestedStateNeeded, type NestedState } from '../x86/kvm';

export const vmxAppended = vmsd({
  name: 'cpu/kvm_nested_state/vmx',
  version_id: 1, // the mistake: same version, different layout
  minimum_version_id: 1,
  needed: (s) => vmxNestedStateNeeded(s as unknown as NestedState),
  fields: [...vmxHeaderFields, f.u32('hdr.vmx.flags'), f.u64('hdr.vmx.preemption_timer_deadline')],
  subsections: [vmcs12Subsection, shadowVmcs12Subsection],
});

export const unversionedAppendNestedState = nestedStateSubsection(
  kvmNestedStateDescription(vmxAppended, svmSubsection),
  true,
);

export const unversionedAppendDesign: NestedDesign = {
  name: 'unversioned-append',
  carriesSvm: true,
  carriesPreemptionTimer: () => true,
  build: (): AnyVMSDesc => unversionedAppendNestedState,
};
