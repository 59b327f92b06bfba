/**
 * What the compatibility tools know of a release (a real QEMU release, a simulated one, or a
 * design alternative of the same shape): the sections its streams carry, its machine types with
 * the compat properties each applies, and what makes it refuse to migrate. The catalog in
 * vmstate/ builds these; nothing here knows a device.
 */
import type { Ctx, State } from '../dsl/kind';
import type { AnyVMSDesc } from '../dsl/vmsd';

/** One top-level section of the release's device catalog. */
export interface CatalogSection {
  /** The section idstr ("cpu", "cpu_common", "timer"). */
  readonly name: string;
  readonly instance: number;
  readonly vmsd: AnyVMSDesc;
  /** QEMU's MigrationPriority: higher is saved first; equal priorities keep catalog order. */
  readonly priority: number;
  /**
   * The section id QEMU gives it (registration order, counting handlers that send nothing, so not
   * dense): taken from the release's real streams so generated sections frame like real ones.
   */
  readonly sectionId: number;
}

/** One entry of a hw_compat_X_Y / pc_compat_X_Y array: a -global the machine type applies. */
export interface CompatProp {
  /** QOM type ("x86_64-cpu", "ICH9-LPC"), or "x86-machine" for X86MachineClass fields. */
  readonly driver: string;
  readonly property: string;
  readonly value: string;
  /**
   * The first release whose array has this entry, when QEMU added it to an array that already
   * existed (pc_compat_5_1 gained kvm-msi-ext-dest-id in 6.0): older releases do not apply it.
   */
  readonly since?: string;
}

export type MachineFamily = 'pc-q35' | 'pc-i440fx';

export interface MachineType {
  /** e.g. "pc-q35-4.1". */
  readonly name: string;
  readonly family: MachineFamily;
  /** The machine-type version whose compat arrays it applies ("4.1", "next"; "4.0" for pc-q35-4.0.1). */
  readonly version: string;
  /** Every compat property it applies, oldest compat array last (QEMU applies them all). */
  readonly compatProps: readonly CompatProp[];
}

/** Device states of one VM, by section key ("cpu" for instance 0, "cpu#1" for instance 1). */
export type VmStates = Readonly<Record<string, State>>;

/**
 * Real: a QEMU release that runs here and whose streams the tests capture (ground truth).
 * Simulated: a past QEMU reconstructed from its source history. Design: an alternative of ours.
 */
export type ReleaseKind = 'real' | 'simulated' | 'design';

/**
 * The device set of a release, by reference to the per-release device catalog (vmstate/devices):
 * the name of that catalog's release entry. The release's own `catalog` holds the non-device
 * sections (timer, cpu_common, cpu); the devices are wired in from the referenced set.
 */
export interface DeviceSetRef {
  readonly release: string;
}

/**
 * A release as the compatibility tools use it. The hooks are methods so that a platform's
 * release may take its own, narrower ctx (vmstate/'s take an X86Ctx).
 */
export interface Release {
  /** "3.0" ... "10.0", "next", or a design name. */
  readonly name: string;
  readonly kind: ReleaseKind;
  readonly summary: string;
  readonly catalog: readonly CatalogSection[];
  /** Its devices in the device catalog (real releases), or undefined. */
  readonly devices?: DeviceSetRef;
  readonly machineTypes: readonly MachineType[];
  /** The machine type `vmstate generate` uses when none is given (the newest q35). */
  readonly defaultMachine: string;
  /** A migration blocker QEMU registers for this VM (it then refuses to migrate), or undefined. */
  blockers(state: VmStates, ctx: Ctx): string | undefined;
  /** State this release would silently leave out of the stream, said in words, or undefined. */
  losses(state: VmStates, ctx: Ctx): string | undefined;
  /** The VM state as this release's QEMU would hold it (what it writes when it loses something). */
  observe(state: VmStates, ctx: Ctx): VmStates;
  /**
   * The guest or host feature a subsection this release sends stands for (a subsection of real
   * QEMU, sent only while the feature is in use), or undefined for a subsection that carries
   * state of features every release has. A state that sends such a subsection uses the feature;
   * a destination without the subsection cannot represent that state (see src/compat/expect.ts).
   */
  featureOf(subsection: string): string | undefined;
}

export const sectionKey = (name: string, instance: number): string =>
  instance === 0 ? name : `${name}#${instance}`;

export function findMachine(release: Release, name: string): MachineType | undefined {
  return release.machineTypes.find((m) => m.name === name);
}

/** The props ctx of a machine type, keyed `<driver>.<property>` (a later entry wins, as in QEMU). */
export function machineProps(m: MachineType): Record<string, string> {
  return { ...propsOf(m) };
}

/** machineProps made once per machine type (a matrix asks for every VM), frozen since it is shared. */
const propsCache = new WeakMap<MachineType, Readonly<Record<string, string>>>();
function propsOf(m: MachineType): Readonly<Record<string, string>> {
  let props = propsCache.get(m);
  if (!props) {
    const out: Record<string, string> = {};
    for (const p of m.compatProps) out[`${p.driver}.${p.property}`] = p.value;
    propsCache.set(m, (props = Object.freeze(out)));
  }
  return props;
}

/** The ctx a release's descriptions see for this host and machine type. */
export function machineCtx<C extends Ctx>(
  host: C,
  machine: MachineType,
): C & { readonly props: Readonly<Record<string, unknown>> } {
  const props = host.props ? { ...propsOf(machine), ...host.props } : propsOf(machine);
  return { ...host, props };
}
