/**
 * QEMU 10.0 (Debian bookworm-backports 1:10.0.2+ds-2+deb13u1~bpo12+1), a real release:
 * streams/qemu-release.sh 10.0. cpu: 7.2's list plus xen_vcpu (8.0), fred (9.1) and msr_hwcr
 * (9.2). Machine types from 2.4 (pc-i440fx-1.4 to 2.3 were removed in 8.x-9.x). pc_compat
 * arrays 7.2-9.2 as its hw/i386/pc.c defines them (older ones: 5.2.ts, 7.2.ts).
 * Its streams number cpu_common 3 and cpu 4 (one registration fewer before them than 7.2).
 */
import { subsectionsDesign } from '../../x86/nested';
import { cpu, prop } from '../compat-props';
import type { ReleaseSpec } from '../spec';

const spec: ReleaseSpec = {
  version: '10.0',
  kind: 'real',
  summary: 'real QEMU 10.0: adds cpu/xen_vcpu (8.0), cpu/fred (9.1), cpu/msr_hwcr (9.2)',
  nested: subsectionsDesign({ svm: true, preemptionTimer: false }),
  machines: {
    oldest: { 'pc-i440fx': '2.4', 'pc-q35': '2.4' },
    extra: [{ name: 'pc-q35-4.0.1', compatOf: '4.0' }],
  },
  sectionIds: { timer: 0, cpu_common: 3, cpu: 4 },
  devices: { release: '10.0' },
  pcCompat: {
    '7.2': [prop('ICH9-LPC', 'noreboot', 'true')],
    '8.0': [prop('virtio-mem', 'unplugged-inaccessible', 'auto')],
    '8.1': [],
    '8.2': [],
    '9.0': [
      cpu('x-amd-topoext-features-only', 'false'),
      cpu('x-l1-cache-per-thread', 'false'),
      cpu('guest-phys-bits', '0'),
      prop('sev-guest', 'legacy-vm-type', 'on'),
      cpu('legacy-multi-node', 'on'),
    ],
    '9.1': [
      prop('ICH9-LPC', 'x-smi-swsmi-timer', 'off'),
      prop('ICH9-LPC', 'x-smi-periodic-timer', 'off'),
      prop('intel-iommu', 'stale-tm', 'on'),
      prop('intel-iommu', 'aw-bits', '39'),
    ],
    '9.2': [],
  },
};
export default spec;
