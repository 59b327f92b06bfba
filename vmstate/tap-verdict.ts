import { PredictionCheck } from '../src/tap/verdict';
import { HOSTS, PLATFORMS } from './platforms';

// `vmstate tap --check RELEASE [--machine M]`: `vmstate predict`'s verdict, on the destinations
// predict knows (vmstate/platforms.ts), given as the stream passes.

export interface PredictCheckOptions {
  /** The destination's machine type or alias (-M); default: the one the stream names. */
  machine?: string;
  /** The destination host the descriptions' hooks see (the tests' real QEMUs run TCG). */
  accel?: 'tcg' | 'kvm';
}

/** Names of the releases a verdict can be given for (those `vmstate predict --to` takes). */
export function checkableReleases(): readonly string[] {
  return PLATFORMS.releases;
}

/** Why `machine` cannot be the destination's machine type for `release`, or undefined when it can. */
export function machineProblem(release: string, machine: string): string | undefined {
  if (PLATFORMS.resolveMachine(release, machine)) return undefined;
  const known = PLATFORMS.machineTypes(release);
  return `machine type '${machine}' is unknown to the catalog of ${release} (it knows: ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', ...' : ''})`;
}

/** The check `vmstate tap --check RELEASE` runs: predict's, record by record. */
export function predictCheck(release: string, opts: PredictCheckOptions = {}): PredictionCheck {
  if (!PLATFORMS.releases.includes(release))
    throw new Error(`no release '${release}' (releases: ${PLATFORMS.releases.join(', ')})`);
  if (opts.machine !== undefined) {
    const problem = machineProblem(release, opts.machine);
    if (problem) throw new Error(problem);
  }
  const host = HOSTS[opts.accel ?? 'tcg'];
  return new PredictionCheck(release, (named) => {
    const machine = opts.machine ?? named;
    if (machine === undefined) return 'the stream names no machine type: say which with --machine';
    const machineType = PLATFORMS.resolveMachine(release, machine);
    if (!machineType)
      return `${machineProblem(release, machine)}; say which machine type the destination runs with --machine`;
    return PLATFORMS.platform(release, machineType, host);
  });
}
