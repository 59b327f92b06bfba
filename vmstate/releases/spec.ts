/**
 * What a release file declares (vmstate/releases/list/*.ts): plain data plus its nested design.
 * Nothing outside vmstate/releases/list names a release: adding one is one file there and one
 * line in list/index.ts.
 */
import type { NestedDesign } from '../x86/nested';
import type { QemuVersion } from '../x86/versions';
import type { CompatProp, DeviceSetRef, MachineFamily, ReleaseKind } from './types';

export interface MachineSpec {
  /** The oldest machine-type version of each family the release still offers. */
  readonly oldest: Readonly<Record<MachineFamily, QemuVersion>>;
  /**
   * Machine types outside the version sequence, with the version whose compat arrays they apply
   * (QEMU 4.1+ keeps pc-q35-4.0.1, which applies 4.0's).
   */
  readonly extra?: readonly { readonly name: string; readonly compatOf: QemuVersion }[];
}

export interface ReleaseSpec {
  readonly version: QemuVersion;
  /** Default: 'design' when `name` is given, else 'simulated'. */
  readonly kind?: ReleaseKind;
  readonly summary: string;
  /** Name when it is a design rather than a release. */
  readonly name?: string;
  /**
   * A release of our own that continues another (`next` follows 7.2): it has that release's cpu
   * subsection list and machine types, plus its own.
   */
  readonly follows?: QemuVersion;
  /** How it carries nested state (undefined: not at all). */
  readonly nested?: NestedDesign;
  /** QEMU 3.1-4.0: refuse to migrate a KVM vCPU whose model exposes VMX. */
  readonly blockVmx?: boolean;
  /** Machine types it offers (default: both families from 2.11). */
  readonly machines?: MachineSpec;
  /**
   * The pc_compat_X_Y arrays (keyed "X.Y") this release's hw/i386/pc.c defines that no earlier
   * release file declared: the compat data of the machine types it adds. Each array is declared
   * once in the whole index (a second declaration is refused).
   */
  readonly pcCompat?: Readonly<Record<string, readonly CompatProp[]>>;
  /**
   * Entries this release adds to existing arrays (our `next` adds one to 7.2's). Additive only:
   * an entry that would change a property the array already sets is refused.
   */
  readonly extraCompat?: Readonly<Record<string, readonly CompatProp[]>>;
  /** Section ids of timer, cpu_common and cpu in its streams (default: 7.2's 0, 4, 5). */
  readonly sectionIds?: {
    readonly timer: number;
    readonly cpu_common: number;
    readonly cpu: number;
  };
  /** Its device set in the device catalog (real releases). */
  readonly devices?: DeviceSetRef;
}
