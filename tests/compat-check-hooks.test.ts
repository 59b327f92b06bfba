/**
 * The static checker's neededOnOldMachine hook on simulated releases: a subsection the older
 * side lacks is a break exactly when some sampled VM sends it on the older side's machine type.
 */
import { checkCompat } from '../src/compat/static/check';
import { neededOnOldMachineHook, releaseCheckSet } from '../src/compat/static/release-set';
import { machineTypesOf } from '../vmstate/releases/machines';
import nextSpec from '../vmstate/releases/list/next';
import { PC_COMPAT } from '../vmstate/releases/pc-compat';
import { releases, type Release } from '../vmstate/releases';
import { x86Platform } from '../vmstate/platform';
import { testSeed } from './support/seed';

const check = (oldR: Release, newR: Release) =>
  checkCompat(releaseCheckSet(oldR), releaseCheckSet(newR), 'backward', {
    backward: neededOnOldMachineHook(newR, oldR, {
      samples: 40,
      platform: x86Platform,
      seed: testSeed(),
    }),
  });

describe('neededOnOldMachine on releases', () => {
  it('next -> 7.2: the preemption-timer subsection is gated off on pc-*-7.2 (info, not a break)', () => {
    const r = check(releases['7.2'], releases.next);
    expect(r.breaking).toBe(0);
    expect(r.findings.map((f) => f.rule)).toEqual(['SUBSECTION_NEVER_NEEDED_ON_OLD_MACHINE']);
    expect(r.findings[0].message).toMatch(
      /sampled 46 VMs .* through next on pc-q35-7\.2, pc-i440fx-7\.2/,
    );
  });

  it('the same release without its pc_compat_7_2 entry: needed on pc-*-7.2 for an L2 with a deadline (break, with the example)', () => {
    const ungated: Release = {
      ...releases.next,
      name: 'next-without-compat',
      machineTypes: machineTypesOf({ ...nextSpec, extraCompat: undefined }, PC_COMPAT),
    };
    const r = check(releases['7.2'], ungated);
    expect(r.breaking).toBe(1);
    expect(r.findings[0].rule).toBe('SUBSECTION_NEEDED_ON_OLD_MACHINE');
    expect(r.findings[0].message).toMatch(
      /preemption_timer.*scenario 'vmx-l2-preemption-timer' on pc-q35-7\.2/,
    );
  });

  it('without a machine type both know there is nothing to sample: the plain rule applies', () => {
    const r = checkCompat(
      releaseCheckSet(releases['7.2']),
      releaseCheckSet(releases.next),
      'backward',
      {
        backward: neededOnOldMachineHook(releases.next, 'pc-q35-1.0', { platform: x86Platform }),
      },
    );
    expect(r.findings.map((f) => f.rule)).toEqual(['SUBSECTION_UNKNOWN_TO_DESTINATION']);
  });
});
