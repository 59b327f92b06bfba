/** Simulated QEMU 3.0 (reconstructed from its source history). */
import type { ReleaseSpec } from '../spec';

const spec: ReleaseSpec = {
  version: '3.0',
  kind: 'simulated',
  summary: 'no nested state; a VMX/SVM guest migrates and silently loses its L1/L2 state',
};
export default spec;
