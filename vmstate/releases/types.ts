/**
 * A QEMU release (real or simulated), or a design alternative, which has the same shape so
 * compatibility tools can compare them: the generic shape lives in src/compat/release.ts; an x86
 * release adds how its cpu description was built, and its hooks see the x86 ctx.
 */
import type { Release as CoreRelease, VmStates } from '../../src/compat/release';
import type { CpuFeatures } from '../x86/cpu';
import type { X86Ctx } from '../x86/ctx';

export {
  sectionKey,
  type CatalogSection,
  type CompatProp,
  type DeviceSetRef,
  type MachineFamily,
  type MachineType,
  type ReleaseKind,
  type VmStates,
} from '../../src/compat/release';

export interface Release extends CoreRelease {
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
