/**
 * What the generic compatibility tools (matrix, static checker, reproductions) need from the
 * machine they simulate, passed in as a value: the catalog in vmstate/ implements it for the
 * x86 PC (vmstate/platform.ts), so nothing in src/ knows a vCPU.
 */
import type * as fc from 'fast-check';
import type { AnyVMSDesc } from '../dsl/vmsd';
import type { GeneratedVm, Vm } from './migrate';
import type { Release } from './release';

export interface Platform {
  /** Negative when `a` is an older release than `b`, 0 for the same version, positive when newer. */
  compareReleases(a: Release, b: Release): number;
  /** Random whole VMs whose sections cover these releases' catalogs, biased to reach needed() both ways. */
  arbitraryVm(releases: readonly Release[]): fc.Arbitrary<GeneratedVm>;
  /** The named VMs a sampling starts from (their `base` is the scenario name). */
  scenarioVms(): readonly GeneratedVm[];
  /** The whole stream `release` writes for `vm` on `machine`, or why it writes none. */
  generateStream(
    release: Release,
    machine: string,
    vm: Vm,
    opts: { readonly lossy?: boolean },
  ):
    | { readonly ok: true; readonly bytes: Uint8Array }
    | { readonly ok: false; readonly message: string };
  /** The section descriptions a state file is written and read with. */
  stateDescOf(release: Release): (section: string) => AnyVMSDesc | undefined;
  /** The VM state in `vmstate generate --state` JSON form. */
  stateJson(vm: Vm, release: Release): unknown;
  /**
   * For the compat matrix's worker threads: a module whose `platform` export is this platform
   * (each worker rebuilds it there), and its releases by name. Without them the matrix runs on
   * one thread.
   */
  readonly workerModule?: string;
  releaseNamed?(name: string): Release | undefined;
}
