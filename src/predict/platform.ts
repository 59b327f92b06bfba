/**
 * What a destination QEMU is, for predicting whether it loads a stream: one release on one
 * machine type, given as a value (the set of section descriptions it registers, the host its
 * hooks see), never looked up through a global. The catalog builds these (vmstate/platforms.ts);
 * a release added to the catalog is predictable without a change here.
 */
import type { Ctx, State } from '../dsl/kind';
import type { AnyVMSDesc } from '../dsl/vmsd';

/** One registered savevm handler with a VMStateDescription (what `find_se` finds). */
export interface PlatformSection {
  /** The description the destination loads the section with. */
  readonly desc: AnyVMSDesc;
  /** The receiving device's state before the load (e.g. the x86 CPU's reset state). */
  readonly receiverState?: () => State;
  /** A legacy save_state handler: QEMU checks only its version, not a minimum. */
  readonly legacy?: boolean;
}

export interface LoadPlatform {
  /** The release, as `--to` names it ("7.2"). */
  readonly release: string;
  /** The local machine type, versioned ("pc-q35-7.2"): what the configuration must name. */
  readonly machineType: string;
  /**
   * The handler for a section of the stream, or undefined when the destination registered none
   * with that idstr and instance ("Unknown savevm section or instance"). The destination is
   * started with the same command line as the source, so the stream's instances of a section
   * the release has are its own.
   */
  section(idstr: string, instance: number): PlatformSection | undefined;
  /**
   * For a section `section()` has no handler for: why the destination's load of it cannot be
   * predicted (the release registers it but the catalog lacks its description), or undefined
   * when the release registers no such section (QEMU's "Unknown savevm section"). Absent: every
   * section the destination registers has a handler.
   */
  undescribed?(idstr: string, instance: number): string | undefined;
  /** The host and machine-type properties the descriptions' hooks and tests see. */
  readonly ctx: Ctx;
  /**
   * Iterative sections with their own record format that every x86 release registers and that
   * prediction does not decode (their bodies are checked by the stream walk): "ram".
   */
  readonly iterative: readonly string[];
  /** Highest MIG_CMD number the release knows (MIG_CMD_MAX - 1). */
  readonly maxCommand: number;
}

/** Where a destination comes from: which releases and machine types can be predicted. */
export interface PlatformCatalog {
  /** Releases a platform can be built for, in the order to list them. */
  readonly releases: readonly string[];
  /** The machine types the catalog describes for a release (aliases resolved by `resolveMachine`). */
  machineTypes(release: string): readonly string[];
  /** A machine type or alias as -machine takes it ('q35', 'pc', 'pc-q35-7.2') -> versioned name, or undefined. */
  resolveMachine(release: string, machine: string): string | undefined;
  /** The destination for a release on a (versioned) machine type. */
  platform(release: string, machineType: string, host?: Ctx): LoadPlatform;
}
