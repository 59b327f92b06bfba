/**
 * The habits of `buf breaking` for `vmstate check` in CI: an ignore file (rules per section and
 * field, each with its reason) and GitHub Actions annotations.
 *
 * Ignore file (JSON): `{ "ignore": [ { "rule": "FIELD_RENAMED", "section": "hpet",
 * "path": "hpet > num_timers", "reason": "renamed, same wire layout" } ] }`. `rule`, `section`
 * and `path` each narrow the match (`path` matches the finding's path or a prefix of it at a
 * ` > ` boundary); `reason` is required.
 */
import type { CheckReport } from './check';
import { RULES, type Finding } from './rules';

export interface IgnoreRule {
  readonly rule?: string;
  readonly section?: string;
  readonly path?: string;
  readonly reason: string;
}

/** Why an ignore file cannot be used: the index of the entry and what is wrong. */
export class IgnoreFileError extends Error {}

export function parseIgnoreFile(text: string): IgnoreRule[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new IgnoreFileError(`not JSON: ${(e as Error).message}`);
  }
  const list = (json as { ignore?: unknown } | null)?.ignore;
  if (!Array.isArray(list)) throw new IgnoreFileError('expected {"ignore": [...]}');
  return list.map((raw, i) => {
    const e = raw as Record<string, unknown>;
    if (!e || typeof e !== 'object') throw new IgnoreFileError(`ignore[${i}]: not an object`);
    for (const k of Object.keys(e))
      if (!['rule', 'section', 'path', 'reason'].includes(k))
        throw new IgnoreFileError(`ignore[${i}]: unknown key '${k}'`);
    for (const k of ['rule', 'section', 'path'] as const)
      if (e[k] !== undefined && typeof e[k] !== 'string')
        throw new IgnoreFileError(`ignore[${i}].${k}: must be a string`);
    if (typeof e.reason !== 'string' || !e.reason.trim())
      throw new IgnoreFileError(`ignore[${i}]: every rule needs a reason`);
    if (typeof e.rule === 'string' && !Object.hasOwn(RULES, e.rule))
      throw new IgnoreFileError(`ignore[${i}].rule: unknown rule '${String(e.rule)}'`);
    if (e.rule === undefined && e.section === undefined && e.path === undefined)
      throw new IgnoreFileError(`ignore[${i}]: give a rule, a section or a path`);
    return e as unknown as IgnoreRule;
  });
}

export function ignoredBy(f: Finding, rules: readonly IgnoreRule[]): IgnoreRule | undefined {
  return rules.find(
    (r) =>
      (r.rule === undefined || r.rule === f.rule) &&
      (r.section === undefined || r.section === f.entry) &&
      (r.path === undefined || f.path === r.path || f.path.startsWith(`${r.path} > `)),
  );
}

/** The report without the ignored findings (counted apart, with their reasons). */
export function applyIgnores(
  r: CheckReport,
  rules: readonly IgnoreRule[],
): CheckReport & { ignored: { finding: Finding; reason: string }[] } {
  const ignored: { finding: Finding; reason: string }[] = [];
  const findings: Finding[] = [];
  for (const f of r.findings) {
    const by = ignoredBy(f, rules);
    if (by) ignored.push({ finding: f, reason: by.reason });
    else findings.push(f);
  }
  return {
    ...r,
    findings,
    breaking: findings.filter((f) => f.severity === 'break').length,
    ignored,
  };
}

/** GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` line per finding. */
export function githubAnnotations(r: CheckReport, file?: string): string {
  const level = { break: 'error', warning: 'warning', info: 'notice' } as const;
  const escData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const escProp = (s: string) => escData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  return r.findings
    .map((f) => {
      const props = [
        file ? `file=${escProp(file)}` : undefined,
        `title=${escProp(`${f.rule} [${f.direction}] ${f.path || f.entry}`)}`,
      ]
        .filter(Boolean)
        .join(',');
      return `::${level[f.severity]} ${props}::${escData(f.message)}\n`;
    })
    .join('');
}
