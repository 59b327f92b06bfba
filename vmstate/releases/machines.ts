/**
 * Machine types and their compat properties, the way QEMU builds them: release R defines a
 * pc_compat_X_Y (and hw_compat_X_Y) array for every older release X.Y, and machine type
 * pc-*-M applies every array from M up to R's predecessor, so an old machine type on a new QEMU
 * behaves (and migrates) like the old QEMU did.
 *
 * The entries are real ones from QEMU's hw/i386/pc.c, limited to those that act on the vCPU or
 * the machine class (the devices our simulated streams carry); device entries for hardware we do
 * not simulate (ICH9-LPC, virtio, intel-iommu...) are left out. Values are as QEMU spells them.
 */
import { compareVersions, type QemuVersion } from '../x86/versions';
import { PREEMPTION_TIMER_PROP } from '../x86/nested';
import type { CompatProp, MachineType } from './types';
import { X86_CPU_TYPE } from '../x86/ctx';

const cpu = (property: string, value: string): CompatProp => ({
  driver: X86_CPU_TYPE,
  property,
  value,
});
const model = (name: string, property: string, value: string): CompatProp => ({
  driver: `${name}-${X86_CPU_TYPE}`,
  property,
  value,
});

/** pc_compat_X_Y arrays: what machine types of version X.Y (and older) undo of later releases. */
export const PC_COMPAT: Readonly<Record<string, readonly CompatProp[]>> = {
  '2.11': [cpu('x-migrate-smi-count', 'off'), model('Skylake-Server', 'clflushopt', 'off')],
  '2.12': [
    cpu('legacy-cache', 'on'),
    cpu('topoext', 'off'),
    model('EPYC', 'xlevel', '0x8000000a'),
    model('EPYC-IBPB', 'xlevel', '0x8000000a'),
  ],
  '3.0': [
    cpu('x-hv-synic-kvm-only', 'on'),
    model('Skylake-Server', 'pku', 'off'),
    model('Skylake-Server-IBRS', 'pku', 'off'),
  ],
  '3.1': [
    model('Opteron_G4', 'npt', 'off'),
    model('EPYC', 'npt', 'off'),
    model('Skylake-Client', 'mpx', 'on'),
    cpu('x-intel-pt-auto-level', 'off'),
  ],
  '4.0': [],
  '4.1': [],
  '4.2': [],
  '5.0': [],
  '5.1': [cpu('kvm-msi-ext-dest-id', 'off')],
  '5.2': [],
  '6.0': [
    model('qemu64', 'family', '6'),
    model('qemu64', 'model', '6'),
    model('qemu64', 'stepping', '3'),
    cpu('x-vendor-cpuid-only', 'off'),
  ],
  '6.1': [
    cpu('hv-version-id-build', '0x1bbc'),
    cpu('hv-version-id-major', '0x0006'),
    cpu('hv-version-id-minor', '0x0001'),
  ],
  '6.2': [],
  '7.0': [],
  '7.1': [],
};

/**
 * Our `next` release's own pc_compat_7_2: machine types up to 7.2 must not send the new
 * preemption-timer subsection, which every real QEMU would reject (unknown cpu/kvm_nested_state/vmx child).
 */
export const NEXT_PC_COMPAT_7_2: readonly CompatProp[] = [cpu(PREEMPTION_TIMER_PROP, 'off')];

/** The machine-type versions our releases know, oldest first. */
export const MACHINE_VERSIONS: readonly QemuVersion[] = [
  '2.11',
  '2.12',
  '3.0',
  '3.1',
  '4.0',
  '4.1',
  '4.2',
  '5.0',
  '5.1',
  '5.2',
  '6.0',
  '6.1',
  '6.2',
  '7.0',
  '7.1',
  '7.2',
];

/**
 * The pc-i440fx-* and pc-q35-* machine types release `release` offers (newest first, as
 * `-machine help` lists them), each with the compat properties it applies there.
 */
export function machineTypesOf(
  release: QemuVersion,
  extra: Readonly<Record<string, readonly CompatProp[]>> = {},
): MachineType[] {
  const compat: Record<string, readonly CompatProp[]> = { ...PC_COMPAT, ...extra };
  const versions = MACHINE_VERSIONS.filter((v) => compareVersions(v, release) <= 0);
  if (release === 'next') versions.push('next');
  const out: MachineType[] = [];
  for (const v of [...versions].reverse()) {
    // Arrays from the machine type's version up to the release's predecessor, newest first: each
    // machine's options call the next newer machine's first, then add their own array, and a
    // property set later wins.
    const props = Object.keys(compat)
      .filter(
        (c) =>
          compareVersions(c as QemuVersion, v) >= 0 &&
          compareVersions(c as QemuVersion, release) < 0,
      )
      .sort((a, b) => compareVersions(b as QemuVersion, a as QemuVersion))
      .flatMap((c) => compat[c]);
    for (const family of ['pc-q35', 'pc-i440fx'])
      out.push({ name: `${family}-${v}`, version: v, compatProps: props });
  }
  return out;
}

export { machineProps } from '../../src/compat/release';
