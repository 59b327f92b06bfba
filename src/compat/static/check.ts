import { BREAK_SENTENCE } from '../expect';
import { compareSets, type CheckHooks, type Finding } from './rules';
import type { CheckSet } from './model';
import { alignDumpFormats } from './dump-formats';

export type CheckMode = 'forward' | 'backward' | 'full';

export interface CheckReport {
  old: string;
  new: string;
  mode: CheckMode;
  findings: Finding[];
  /** Number of findings that break a migration. */
  breaking: number;
}

/**
 * forward: can NEW load what OLD writes (the usual upgrade); backward: can OLD load what NEW
 * writes (migrating back, on the old machine type); full: both.
 */
export function checkCompat(
  oldSet: CheckSet,
  newSet: CheckSet,
  mode: CheckMode,
  hooks: { forward?: CheckHooks; backward?: CheckHooks } = {},
): CheckReport {
  [oldSet, newSet] = alignDumpFormats(oldSet, newSet);
  const findings: Finding[] = [];
  // Appended one by one: a spread of 130,000 findings overflows the call stack.
  if (mode !== 'backward')
    for (const f of compareSets(oldSet, newSet, 'forward', hooks.forward)) findings.push(f);
  if (mode !== 'forward')
    for (const f of compareSets(newSet, oldSet, 'backward', hooks.backward)) findings.push(f);
  return {
    old: oldSet.label,
    new: newSet.label,
    mode,
    findings,
    breaking: findings.filter((f) => f.severity === 'break').length,
  };
}

/** The report as lines for a terminal, breaks first. */
export function formatReport(r: CheckReport): string {
  const order = { break: 0, warning: 1, info: 2 } as const;
  const notModelled = r.findings.filter((f) => f.rule === 'DEVICE_CLASS_NOT_MODELLED').length;
  const lines = [
    `vmstate check ${r.old} -> ${r.new} (${r.mode}): ${r.breaking} breaking, ${r.findings.length - r.breaking} other finding(s)${notModelled ? `, of which ${notModelled} device class(es) not modelled` : ''}`,
  ];
  for (const f of [...r.findings].sort((a, b) => order[a.severity] - order[b.severity])) {
    lines.push(
      `  ${f.severity.toUpperCase().padEnd(7)} ${f.rule} [${f.direction}] ${f.path || f.entry}: ${f.message}`,
    );
  }
  if (r.breaking > 0) lines.push(`(${BREAK_SENTENCE})`);
  return `${lines.join('\n')}\n`;
}
