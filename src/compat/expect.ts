/**
 * The outcome a migration should have, worked out from the descriptions alone (never by loading):
 * QEMU's compatibility contract says a destination loads every stream whose sections,
 * subsections and versions it knows, and refuses one that carries something it lacks. So:
 *
 *  - the source refuses (blocker, pre_save) -> refused by the source;
 *  - the destination has no such machine type -> refused;
 *  - a section, a subsection or a version the destination lacks is sent -> refused by the
 *    destination (for that reason, or for an earlier check of its hooks);
 *  - otherwise -> ok;
 *  - and on a backward migration (older release to newer) always ok unless the source refuses.
 *
 * A migration that does anything else (lossy, crash, refused where ok was due, or ok where
 * refusal was due) violates the migration property; see `violation`.
 */
import type { AnyVMSDesc } from '../dsl/vmsd';
import type { Release } from './release';
import type { MigrationCache, MigrationOutcome, Source } from './migrate';
import { knownSubsections } from './sent';

export type Expectation =
  | {
      readonly kind: 'ok';
      /** On a backward migration: what the newer destination lacks (so it will refuse, a bug of the newer side). */
      readonly lacking?: readonly string[];
    }
  | {
      readonly kind: 'refused';
      readonly side: 'source' | 'destination';
      /** Every reason a QEMU may give for this stream (the first it meets is the one reported). */
      readonly reasons: readonly string[];
      /** What the destination lacks, e.g. `subsection cpu/pdptrs`. */
      readonly lacking: readonly string[];
    };

const known = new WeakMap<AnyVMSDesc, Map<string, AnyVMSDesc>>();
function subsectionsOf(d: AnyVMSDesc): Map<string, AnyVMSDesc> {
  let m = known.get(d);
  if (!m) known.set(d, (m = knownSubsections(d)));
  return m;
}

/**
 * `backward` (older release to newer) strengthens the contract: the newer release must load
 * whatever the older one sends, so ok is due whenever the source writes a stream at all.
 */
export function expectedOutcome(
  cache: MigrationCache,
  from: Source,
  to: { readonly release: Release },
  backward = false,
): Expectation {
  const srcSide = cache.side(from.release, from.machine);
  if (!srcSide)
    return {
      kind: 'refused',
      side: 'source',
      reasons: ['unknown-machine'],
      lacking: [`machine type ${from.machine}`],
    };
  const src = cache.source(from.release, srcSide);
  if (!src.done) {
    // A source crash is never expected: expecting ok makes it a violation.
    return src.refused
      ? { kind: 'refused', side: 'source', reasons: [src.refused.reason], lacking: [] }
      : { kind: 'ok' };
  }
  if (!cache.side(to.release, from.machine))
    return {
      kind: 'refused',
      side: 'destination',
      reasons: ['unknown-machine'],
      lacking: [`machine type ${from.machine}`],
    };

  const reasons: string[] = [];
  const lacking: string[] = [];
  const lack = (reason: string, what: string) => {
    if (!reasons.includes(reason)) reasons.push(reason);
    lacking.push(what);
  };
  for (const [key, sent] of src.sent) {
    const mine = from.release.catalog.find(
      (c) => (c.instance === 0 ? c.name : `${c.name}#${c.instance}`) === key,
    )!;
    const theirs = to.release.catalog.find(
      (c) => c.name === mine.name && c.instance === mine.instance,
    );
    if (!theirs) {
      lack('unknown-section', `section ${key}`);
      continue;
    }
    const v = mine.vmsd.version_id;
    if (v > theirs.vmsd.version_id)
      lack('version-too-new', `${mine.name} version ${v} (destination: ${theirs.vmsd.version_id})`);
    if (v < theirs.vmsd.minimum_version_id)
      lack(
        'version-too-old',
        `${mine.name} version ${v} (destination minimum: ${theirs.vmsd.minimum_version_id})`,
      );
    const subs = subsectionsOf(theirs.vmsd);
    for (const s of sent.subsections) {
      const d = subs.get(s.name);
      if (!d) lack('unknown-subsection', `subsection ${s.name}`);
      else if (s.version > d.version_id)
        lack('version-too-new', `${s.name} version ${s.version} (destination: ${d.version_id})`);
      else if (s.version < d.minimum_version_id)
        lack(
          'version-too-old',
          `${s.name} version ${s.version} (destination minimum: ${d.minimum_version_id})`,
        );
    }
  }
  if (backward) return lacking.length ? { kind: 'ok', lacking } : { kind: 'ok' };
  return reasons.length
    ? { kind: 'refused', side: 'destination', reasons, lacking }
    : { kind: 'ok' };
}

/** Why an outcome breaks the migration property for this expectation, or undefined when it keeps it. */
export function violation(actual: MigrationOutcome, expected: Expectation): string | undefined {
  if (actual.kind === 'crash') return 'crash: an exception that is not a VMStateError';
  if (actual.kind === 'lossy')
    return `lossy: ${actual.changed.length} value(s) the source sent did not arrive as sent`;
  if (expected.kind === 'ok') {
    if (actual.kind === 'refused')
      return expected.lacking?.length
        ? `refused by the ${actual.refusal.side} (${actual.refusal.reason}) on a backward migration: the newer release lacks ${expected.lacking.join(', ')}`
        : `refused by the ${actual.refusal.side} (${actual.refusal.reason}) although the destination knows every section, subsection and version sent`;
    return undefined;
  }
  if (actual.kind === 'ok')
    return `loaded although the destination lacks ${expected.lacking.join(', ')}`;
  // The destination may refuse earlier than at what it lacks (a pre_load/post_load check); only
  // which side refuses is part of the contract.
  if (actual.refusal.side !== expected.side)
    return `refused by the ${actual.refusal.side} (${actual.refusal.reason}), expected the ${expected.side} to refuse (${expected.reasons.join(' or ')}${expected.lacking.length ? `: ${expected.lacking.join(', ')}` : ''})`;
  return undefined;
}
