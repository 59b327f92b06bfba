/** Simulated QEMU 5.0. */
import { subsectionsDesign } from '../../x86/nested';
import type { ReleaseSpec } from '../spec';

const spec: ReleaseSpec = {
  version: '5.0',
  kind: 'simulated',
  summary: "as 4.1 plus 4.2's poll_control_msr, umwait, msr_tsx_ctrl",
  nested: subsectionsDesign({ svm: false, preemptionTimer: false }),
};
export default spec;
