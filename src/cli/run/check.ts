/** The body of `vmstate check OLD NEW` (src/cli/commands/check.ts parses the options). */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fromDumpJson } from '../../compat/static/model';
import { UsageError } from '../../errors';
import {
  IgnoreFileError,
  applyIgnores,
  githubAnnotations,
  parseIgnoreFile,
  type IgnoreRule,
} from '../../compat/static/ci';
import { checkCompat, formatReport, type CheckMode } from '../../compat/static/check';
import { neededOnOldMachineHook, releaseCheckSet } from '../../compat/static/release-set';
import { x86Platform } from '../../../vmstate/platform';
import {
  hasDeviceCatalog,
  modelledPartOfDump,
  releaseCheckSetForDump,
} from '../../../vmstate/catalog-check-set';
import { findMachine } from '../../compat/release';
import type { CheckSet } from '../../compat/static/model';
import type { Finding } from '../../compat/static/rules';
import { BadInputFile, reportBadInput, resolveOperand, type Operand } from './resolve';

export interface CheckCliOptions {
  readonly mode?: string;
  readonly json?: boolean;
  /** Random VMs the subsection sampling uses besides the scenarios. */
  readonly samples?: string;
  /** An ignore file (src/compat/static/ci.ts): findings it names, each with its reason, are not counted. */
  readonly ignore?: string;
  /** 'text' (default), 'json' or 'github-actions'. */
  readonly errorFormat?: string;
}

const MODES: readonly CheckMode[] = ['forward', 'backward', 'full'];

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
  // A real release against a dump: the release's device catalog on the dump's machine type,
  // and the dump cut to the device classes the catalog models (the rest are info findings).
  const notModelled: Finding[] = [];
  const built = new Map<Operand, CheckSet>();
  const setOf = (o: Operand, other: Operand): CheckSet => {
    let set = built.get(o);
    if (!set) built.set(o, (set = buildSet(o, other)));
    return set;
  };
  const buildSet = (o: Operand, other: Operand): CheckSet => {
    if (o.kind === 'dump') {
      if (other.kind !== 'release' || !hasDeviceCatalog(other.release.name)) return o.set;
      const part = modelledPartOfDump(o.set, setOf(other, o));
      notModelled.push(...part.notModelled);
      return part.dump;
    }
    if (other.kind !== 'dump' || !hasDeviceCatalog(o.release.name))
      return releaseCheckSet(o.release);
    const machine = other.set.machine;
    if (machine === undefined || !findMachine(o.release, machine))
      throw new UsageError(
        `check: release ${o.release.name} has no machine type ${machine === undefined ? '(the dump names none)' : `'${machine}'`}, which ${other.label} was dumped on`,
      );
    return releaseCheckSetForDump(o.release.name, machine);
  };
  // The other side of a subsection the destination lacks: a release, or the machine type a dump was made with.
  const destinationOf = (o: Operand) => (o.kind === 'release' ? o.release : o.set.machine);
  const hooks = {
    forward:
      oldOp.kind === 'release'
        ? neededOnOldMachineHook(oldOp.release, destinationOf(newOp), {
            samples,
            platform: x86Platform,
          })
        : undefined,
    backward:
      newOp.kind === 'release'
        ? neededOnOldMachineHook(newOp.release, destinationOf(oldOp), {
            samples,
            platform: x86Platform,
          })
        : undefined,
  };
  const format = opts.errorFormat ?? (opts.json ? 'json' : 'text');
  if (!['text', 'json', 'github-actions'].includes(format))
    throw new UsageError(
      `check: --error-format must be text, json or github-actions (got '${format}')`,
    );
  let ignores: IgnoreRule[] = [];
  if (opts.ignore !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(opts.ignore, 'utf8');
    } catch (e) {
      throw new UsageError(
        `check: cannot read --ignore ${opts.ignore}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
    try {
      ignores = parseIgnoreFile(text);
    } catch (e) {
      if (!(e instanceof IgnoreFileError)) throw e;
      process.stderr.write(`vmstate: ${opts.ignore}: ${e.message}\n`);
      return 3;
    }
  }
  const checked = checkCompat(setOf(oldOp, newOp), setOf(newOp, oldOp), mode, hooks);
  const report = applyIgnores(
    { ...checked, findings: [...checked.findings, ...notModelled] },
    ignores,
  );
  if (format === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (format === 'github-actions')
    process.stdout.write(githubAnnotations(report, newOp.kind === 'release' ? undefined : newSpec));
  else {
    process.stdout.write(formatReport(report));
    if (report.ignored.length)
      process.stdout.write(
        `${report.ignored.length} finding(s) ignored by ${opts.ignore}:\n${report.ignored.map((i) => `  ${i.finding.rule} ${i.finding.path || i.finding.entry}: ${i.reason}\n`).join('')}`,
      );
  }
  return report.breaking > 0 ? 1 : 0;
}

/**
 * `vmstate check INPUT --against BASELINE`, as `buf breaking` gates a change: INPUT is a
 * -dump-vmstate file or a directory of them; BASELINE is the same (files matched by name), or a
 * git ref whose version of each INPUT file is the baseline (`git show REF:./FILE`).
 */
export function runCheckAgainst(input: string, against: string, opts: CheckCliOptions): number {
  const mode = (opts.mode ?? 'full') as CheckMode;
  if (!MODES.includes(mode))
    throw new UsageError(`check: --mode must be one of ${MODES.join(', ')} (got '${opts.mode}')`);
  const format = opts.errorFormat ?? (opts.json ? 'json' : 'text');
  if (!['text', 'json', 'github-actions'].includes(format))
    throw new UsageError(
      `check: --error-format must be text, json or github-actions (got '${format}')`,
    );
  if (!fs.existsSync(input)) throw new UsageError(`check: no such file or directory: ${input}`);
  const files = fs.statSync(input).isDirectory()
    ? fs
        .readdirSync(input)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => path.join(input, f))
    : [input];
  if (files.length === 0) throw new UsageError(`check: ${input} holds no .json dump`);
  const baselineIsPath = fs.existsSync(against);
  const baselineText = (file: string): string | undefined => {
    if (baselineIsPath) {
      const b = fs.statSync(against).isDirectory()
        ? path.join(against, path.basename(file))
        : against;
      return fs.existsSync(b) ? fs.readFileSync(b, 'utf8') : undefined;
    }
    const r = spawnSync('git', ['show', `${against}:./${path.basename(file)}`], {
      cwd: path.dirname(path.resolve(file)),
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    if (r.status !== 0) {
      if (/unknown revision|bad revision|invalid object name|not a valid object/i.test(r.stderr))
        throw new UsageError(
          `check: --against '${against}' is neither a file, a directory nor a git ref`,
        );
      return undefined; // the file is new since that ref
    }
    return r.stdout;
  };
  let ignores: IgnoreRule[] = [];
  if (opts.ignore !== undefined) {
    try {
      ignores = parseIgnoreFile(fs.readFileSync(opts.ignore, 'utf8'));
    } catch (e) {
      if (e instanceof IgnoreFileError) {
        process.stderr.write(`vmstate: ${opts.ignore}: ${e.message}\n`);
        return 3;
      }
      throw new UsageError(`check: cannot read --ignore ${opts.ignore}`);
    }
  }
  let breaking = 0;
  const reports: unknown[] = [];
  for (const file of files) {
    const text = baselineText(file);
    if (text === undefined) {
      if (format === 'text') process.stdout.write(`${file}: no baseline (new dump), not checked\n`);
      continue;
    }
    let oldSet, newSet;
    try {
      oldSet = fromDumpJson(JSON.parse(text), `${against}:${path.basename(file)}`);
      newSet = fromDumpJson(JSON.parse(fs.readFileSync(file, 'utf8')), file);
    } catch (e) {
      process.stderr.write(`vmstate: ${file}: ${(e as Error).message}\n`);
      return 3;
    }
    const report = applyIgnores(checkCompat(oldSet, newSet, mode, {}), ignores);
    breaking += report.breaking;
    if (format === 'json') reports.push({ file, ...report });
    else if (format === 'github-actions') process.stdout.write(githubAnnotations(report, file));
    else process.stdout.write(formatReport(report));
  }
  if (format === 'json') process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  return breaking > 0 ? 1 : 0;
}
