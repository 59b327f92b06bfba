/**
 * vmstate-lab as a package (`import { ... } from 'vmstate-lab'`): the library in src/ (DSL,
 * engine, streams, analysis, checker, matrix), plus this catalog: the x86 platform, the simulated
 * releases and designs, and what a design of one's own is written with.
 */
import type { CheckMode, CheckReport } from '../src/compat/static/check';
import { checkReleases } from '../src/compat/static/release-set';
import { runMatrix, type MatrixOptions, type MatrixResult } from '../src/compat/matrix';
import type { AnalysisCatalog } from '../src/analyze/analysis-catalog';
import { x86Platform } from './platform';
import type { Release } from './releases/types';
import type { NestedDesign } from './x86/nested';
import { nestedStateView } from './x86/nested-view';

export * from '../src';
export {
  predictCheck,
  checkableReleases,
  machineProblem,
  type PredictCheckOptions,
} from './tap-verdict';
export { x86Platform } from './platform';
export { defineRelease, type ReleaseSpec } from './releases/release';
export { releases, designs, RELEASE_NAMES, DESIGN_NAMES } from './releases';
export type { Release } from './releases/types';
export type { NestedDesign } from './x86/nested';
/** The x86 cpu: its description pieces, host context, scenarios and nested-state subsections. */
export * as x86 from './x86';
/** Linux KVM's nested state (struct kvm_nested_state, vmcs12, vmcb) and its rules. */
export * as kvm from './x86/kvm';

/**
 * Declares how a design carries KVM nested state in the cpu section (the subsection tree and the
 * properties it answers to), for `defineRelease({ nested })`: typed, and nothing else.
 */
export function defineDesign(design: NestedDesign): NestedDesign {
  return design;
}

/** The static check of two releases or designs, as `vmstate check OLD NEW` runs it. */
export function check(
  oldRelease: Release,
  newRelease: Release,
  opts: { mode?: CheckMode; samples?: number; seed?: number } = {},
): CheckReport {
  return checkReleases(oldRelease, newRelease, opts.mode ?? 'full', {
    platform: x86Platform,
    samples: opts.samples,
    seed: opts.seed,
  });
}

/** The migration matrix over x86 releases, as `vmstate compat` runs it. */
export function compat(opts: Omit<MatrixOptions, 'platform'>): MatrixResult {
  return runMatrix({ platform: x86Platform, ...opts });
}

/** What `vmstate analyze` decodes and shows with the catalog (pass to decodeStream's resolvers and the formatters' views). */
export const x86Views: AnalysisCatalog['views'] = [nestedStateView];
