/**
 * Writes the migration stream a release would write for a VM state on a machine type, or says
 * why that release would not (or would, but lose state) — what `vmstate generate` does.
 */
import { sectionsSent } from '../../src/compat/vm-stream';
import { saveDescribed } from '../../src/engine/save';
import { HookError, VMStateError } from '../../src/errors';
import { encodeFramedStream, type FramedSection } from '../../src/stream/generate-framing';
import type { X86Ctx } from '../x86/ctx';
import { findMachine, machineCtx } from '../../src/compat/release';
import type { Release, VmStates } from './types';

export type GenerateOutcome =
  | {
      readonly ok: true;
      readonly bytes: Uint8Array;
      readonly machine: string;
      readonly lost?: string;
    }
  | {
      readonly ok: false;
      readonly why: 'unknown-machine' | 'blocker' | 'loss' | 'save-refused';
      readonly message: string;
    };

export interface GenerateOptions {
  /** Write the stream even though the release drops part of the state (as that QEMU did). */
  readonly lossy?: boolean;
}

export { findMachine, machineCtx } from '../../src/compat/release';

export function generateStream(
  release: Release,
  machineName: string,
  vm: { readonly ctx: X86Ctx; readonly state: VmStates },
  opts: GenerateOptions = {},
): GenerateOutcome {
  const machine = findMachine(release, machineName);
  if (!machine)
    return {
      ok: false,
      why: 'unknown-machine',
      message: `release ${release.name} has no machine type '${machineName}' (try: ${release.machineTypes
        .slice(0, 4)
        .map((m) => m.name)
        .join(', ')}, ...)`,
    };
  const ctx = machineCtx(vm.ctx, machine);
  const blocker = release.blockers(vm.state, ctx);
  if (blocker)
    return {
      ok: false,
      why: 'blocker',
      message: `QEMU ${release.name} refuses to migrate this VM: ${blocker}`,
    };
  const lost = release.losses(vm.state, ctx);
  if (lost && !opts.lossy)
    return {
      ok: false,
      why: 'loss',
      message: `${lost} (pass --lossy to write that stream anyway)`,
    };
  const state = lost ? release.observe(vm.state, ctx) : vm.state;

  const sections: FramedSection[] = [];
  for (const { section: c, state: s } of sectionsSent(release.catalog, state, ctx)) {
    try {
      const { bytes, vmdesc } = saveDescribed(c.vmsd, s, {
        ctx,
        path: `${c.name}#${c.instance}`,
      });
      sections.push({
        sectionId: c.sectionId,
        idstr: c.name,
        instanceId: c.instance,
        version: c.vmsd.version_id,
        body: bytes,
        vmdesc,
      });
    } catch (e) {
      if (e instanceof HookError)
        return {
          ok: false,
          why: 'save-refused',
          message: `QEMU ${release.name} fails to save ${c.name}: ${e.what}`,
        };
      if (e instanceof VMStateError)
        return { ok: false, why: 'save-refused', message: `${c.name}: ${e.path}: ${e.what}` };
      throw e;
    }
  }
  return {
    ok: true,
    bytes: encodeFramedStream({ machineType: machine.name, sections }),
    machine: machine.name,
    lost,
  };
}
