/** Simulated QEMU 5.1: real 5.2 differs from it only by cpu/async_pf_int_msr (and its machine types). */
import { subsectionsDesign } from '../../x86/nested';
import type { ReleaseSpec } from '../spec';

const spec: ReleaseSpec = {
  version: '5.1',
  kind: 'simulated',
  summary: 'adds cpu/kvm_nested_state/svm (nested SVM state)',
  nested: subsectionsDesign({ svm: true, preemptionTimer: false }),
};
export default spec;
