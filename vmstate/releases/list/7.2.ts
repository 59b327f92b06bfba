/**
 * QEMU 7.2 (Debian bookworm's qemu-system-x86), a real release: the system's qemu-system-x86_64.
 * cpu: the 43-subsection list of 7.2's target/i386/machine.c; nested VMX and SVM. pc_compat
 * arrays 5.2-7.1 as its hw/i386/pc.c defines them (older ones: see 5.2.ts).
 */
import { subsectionsDesign } from '../../x86/nested';
import { cpu, model, prop } from '../compat-props';
import type { ReleaseSpec } from '../spec';

const spec: ReleaseSpec = {
  version: '7.2',
  kind: 'real',
  summary:
    'real QEMU 7.2: the 43-subsection cpu list (pkrs 6.0; svm_guest, sgx 6.2; pdptrs, xfd, amx 7.0; arch_lbr 7.1; triple_fault)',
  nested: subsectionsDesign({ svm: true, preemptionTimer: false }),
  machines: {
    oldest: { 'pc-i440fx': '1.4', 'pc-q35': '2.4' },
    extra: [{ name: 'pc-q35-4.0.1', compatOf: '4.0' }],
  },
  devices: { release: '7.2' },
  pcCompat: {
    '5.2': [prop('ICH9-LPC', 'x-smi-cpu-hotunplug', 'off')],
    '6.0': [
      model('qemu64', 'family', '6'),
      model('qemu64', 'model', '6'),
      model('qemu64', 'stepping', '3'),
      cpu('x-vendor-cpuid-only', 'off'),
      prop('ICH9-LPC', 'acpi-pci-hotplug-with-bridge-support', 'off'),
      prop('ICH9-LPC', 'x-keep-pci-slot-hpc', 'true'),
    ],
    '6.1': [
      cpu('hv-version-id-build', '0x1bbc'),
      cpu('hv-version-id-major', '0x0006'),
      cpu('hv-version-id-minor', '0x0001'),
      prop('ICH9-LPC', 'x-keep-pci-slot-hpc', 'false'),
    ],
    '6.2': [prop('virtio-mem', 'unplugged-inaccessible', 'off')],
    '7.0': [],
    '7.1': [],
  },
};
export default spec;
