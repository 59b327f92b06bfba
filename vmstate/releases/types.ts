/**
 * A simulated QEMU release (or a design alternative, which has the same shape so compatibility
 * tools can compare them): the sections its streams carry for our one-vCPU machine, its machine
 * types with the compat properties each applies, and what makes it refuse to migrate.
 */
import type { AnyVMSDesc, State } from '../../src/dsl';
import type { CpuFeatures } from '../x86/cpu';
import type { X86Ctx } from '../x86/ctx';

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
   * dense): taken from the real 7.2 streams so simulated sections frame like real ones.
   */
  readonly sectionId: number;
}

/** One entry of a hw_compat_X_Y / pc_compat_X_Y array: a -global the machine type applies. */
export interface CompatProp {
  /** QOM type ("x86_64-cpu", "ICH9-LPC"), or "x86-machine" for X86MachineClass fields. */
  readonly driver: string;
  readonly property: string;
  readonly value: string;
}

export interface MachineType {
  /** e.g. "pc-q35-4.1". */
  readonly name: string;
  /** The machine-type version it freezes ("4.1", or "next"). */
  readonly version: string;
  /** Every compat property it applies, oldest compat array last (QEMU applies them all). */
  readonly compatProps: readonly CompatProp[];
}

/** Device states of one VM, by section key ("cpu" for instance 0, "cpu#1" for instance 1). */
export type VmStates = Readonly<Record<string, State>>;

export interface Release {
  /** "3.0" ... "7.2", "next", or a design name. */
  readonly name: string;
  readonly summary: string;
  readonly catalog: readonly CatalogSection[];
  readonly machineTypes: readonly MachineType[];
  /** The machine type `vmstate generate` uses when none is given (the newest q35). */
  readonly defaultMachine: string;
  /**
   * A migration blocker QEMU registers for this VM (it then refuses `migrate` and `savevm` with
   * this text), or undefined.
   */
  readonly blockers: (state: VmStates, ctx: X86Ctx) => string | undefined;
  /**
   * State this release would silently leave out of the stream (QEMU migrates anyway and the
   * destination resumes without it), said in words, or undefined when nothing is lost.
   */
  readonly losses: (state: VmStates, ctx: X86Ctx) => string | undefined;
  /** The VM state as this release's QEMU would hold it (what it writes when it loses something). */
  readonly observe: (state: VmStates, ctx: X86Ctx) => VmStates;
  /** How its `cpu` description was built. */
  readonly cpuFeatures: CpuFeatures;
  /**
   * The guest or host feature a subsection this release sends stands for (a subsection of real
   * QEMU, sent only while the feature is in use), or undefined for a subsection that carries
   * state of features every release has. A state that sends such a subsection uses the feature;
   * a destination without the subsection cannot represent that state (see src/compat/expect.ts).
   */
  readonly featureOf: (subsection: string) => string | undefined;
}

export const sectionKey = (name: string, instance: number): string =>
  instance === 0 ? name : `${name}#${instance}`;
