/** The body of `vmstate check OLD NEW` (src/cli/commands/check.ts parses the options). */
import { UsageError } from '../../errors';
import { checkCompat, formatReport, type CheckMode } from '../../compat/static/check';
import { neededOnOldMachineHook, releaseCheckSet } from '../../compat/static/release-set';
import { x86Platform } from '../../../vmstate/platform';
import { BadInputFile, reportBadInput, resolveOperand, type Operand } from './resolve';

export interface CheckCliOptions {
  readonly mode?: string;
  readonly json?: boolean;
  /** Random VMs the subsection sampling uses besides the scenarios. */
  readonly samples?: string;
}

const MODES: readonly CheckMode[] = ['backward', 'forward', 'full'];

export function runCheck(oldSpec: string, newSpec: string, opts: CheckCliOptions): number {
  const mode = (opts.mode ?? 'full') as CheckMode;
  if (!MODES.includes(mode))
    throw new UsageError(`check: --mode must be one of ${MODES.join(', ')} (got '${opts.mode}')`);
  const samples = opts.samples === undefined ? undefined : Number(opts.samples);
  if (samples !== undefined && !(Number.isInteger(samples) && samples >= 0))
    throw new UsageError(`check: --samples must be a whole number (got '${opts.samples}')`);
  let oldOp: Operand;
  let newOp: Operand;
  try {
    oldOp = resolveOperand(oldSpec, 'check OLD');
    newOp = resolveOperand(newSpec, 'check NEW');
  } catch (e) {
    if (e instanceof BadInputFile) return reportBadInput(e);
    throw e;
  }
  const setOf = (o: Operand) => (o.kind === 'release' ? releaseCheckSet(o.release) : o.set);
  // The other side of a subsection the destination lacks: a release, or the machine type a dump was made with.
  const destinationOf = (o: Operand) => (o.kind === 'release' ? o.release : o.set.machine);
  const hooks = {
    backward:
      oldOp.kind === 'release'
        ? neededOnOldMachineHook(oldOp.release, destinationOf(newOp), {
            samples,
            platform: x86Platform,
          })
        : undefined,
    forward:
      newOp.kind === 'release'
        ? neededOnOldMachineHook(newOp.release, destinationOf(oldOp), {
            samples,
            platform: x86Platform,
          })
        : undefined,
  };
  const report = checkCompat(setOf(oldOp), setOf(newOp), mode, hooks);
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.breaking > 0 ? 1 : 0;
}
