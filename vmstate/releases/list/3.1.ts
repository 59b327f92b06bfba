/** Simulated QEMU 3.1. */
import type { ReleaseSpec } from '../spec';

const spec: ReleaseSpec = {
  version: '3.1',
  kind: 'simulated',
  summary:
    'still no nested state, but refuses to migrate a KVM vCPU whose model exposes VMX (migration blocker)',
  blockVmx: true,
};
export default spec;
