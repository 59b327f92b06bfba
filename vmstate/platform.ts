/**
 * The x86 PC as the generic compatibility tools in src/compat see it (their Platform): how
 * releases are ordered, the scenarios and random VMs they migrate, how a release writes a whole
 * stream and a state file. src/cli passes this value in; nothing in src/ imports vmstate/.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Platform } from '../src/compat/platform';
import type { Release as CoreRelease } from '../src/compat/release';
import { releases } from './releases';
import { generateStream } from './releases/generate';
import { vmStateToJson } from './releases/state-json';
import type { Release, VmStates } from './releases/types';
import { cpuEverythingDescription } from './x86/cpu';
import type { X86Ctx } from './x86/ctx';
import { scenarios } from './x86/scenarios';
import { compareVersions } from './x86/versions';
import { arbitraryVm } from './x86/vm-arbitrary';

/** A release of this platform: one built by defineRelease (it says how its cpu was built). */
function x86(r: CoreRelease): Release {
  if (!('cpuFeatures' in r))
    throw new TypeError(`release ${r.name} is not an x86 release (made by defineRelease)`);
  return r as Release;
}

export const x86Platform: Platform = {
  compareReleases,
  arbitraryVm: (releases) => arbitraryVm({ releases: releases.map(x86) }),
  scenarioVms: () =>
    scenarios().map((s) => ({
      base: s.name,
      ctx: s.ctx,
      state: s.state as unknown as VmStates,
    })),
  generateStream: (release, machine, vm, opts) =>
    generateStream(x86(release), machine, { ctx: vm.ctx as X86Ctx, state: vm.state }, opts),
  stateDescOf,
  stateJson: (vm, release) =>
    vmStateToJson({ ctx: vm.ctx as X86Ctx, sections: vm.state }, stateDescOf(release)),
  workerModule: workerModule(),
  releaseNamed: (name) => releases[name],
};

/**
 * This module's compiled file, for the matrix's worker threads: __filename itself, or, inside the
 * CLI's single-file bundle (dist/vmstate.js), the tsc build of this module beside it.
 */
function workerModule(): string | undefined {
  return [__filename, path.join(__dirname, 'vmstate', 'platform.js')].find(
    (f) => /platform\.[jt]s$/.test(f) && fs.existsSync(f),
  );
}

/** What a compat matrix worker thread loads (see Platform.workerModule). */
export const platform = x86Platform;

/**
 * Release order. A release that follows another (our `next` after 7.2) sits right after it: it
 * is a fork of that release, not newer than the real releases that came later.
 */
function compareReleases(a: CoreRelease, b: CoreRelease): number {
  const fa = x86(a).cpuFeatures;
  const fb = x86(b).cpuFeatures;
  return (
    compareVersions(fa.subsectionsOf ?? fa.version, fb.subsectionsOf ?? fb.version) ||
    compareVersions(fa.version, fb.version)
  );
}

/** The section descriptions a state file is written with (cpu: every key any release has). */
function stateDescOf(release: CoreRelease) {
  return (section: string) =>
    section === 'cpu'
      ? cpuEverythingDescription
      : release.catalog.find(
          (c) => (c.instance === 0 ? c.name : `${c.name}#${c.instance}`) === section,
        )?.vmsd;
}
