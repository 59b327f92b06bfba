/** Simulated QEMU 4.0. */
import type { ReleaseSpec } from '../spec';

const spec: ReleaseSpec = { version: '4.0', kind: 'simulated', summary: 'as 3.1', blockVmx: true };
export default spec;
