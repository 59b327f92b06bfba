/** Simulated QEMU 4.1: QEMU's nested-state subsections arrive, VMX only. */
import { subsectionsDesign } from '../../x86/nested';
import type { ReleaseSpec } from '../spec';

const spec: ReleaseSpec = {
  version: '4.1',
  kind: 'simulated',
  summary:
    'nested VMX state as cpu/nested_state subsections (vmx, vmcs12, shadow_vmcs12); cpu/exception_info; blocker gone',
  nested: subsectionsDesign({ svm: false, preemptionTimer: false }),
};
export default spec;
