/**
 * The outcome a migration should have, worked out from the descriptions alone (never by loading).
 * QEMU's contract: migrating to an older release on the older machine type must load whenever
 * the source's state is one the older release can represent. A state is representable on the
 * destination unless it uses a guest or host feature the destination lacks; it uses a feature
 * when the source sends that feature's subsection (Release.featureOf: a subsection of real QEMU,
 * sent only while the feature is in use), and no machine type can turn such a use off. So:
 *
 *  - the source refuses (blocker, pre_save) -> refused by the source;
 *  - the destination has no such machine type -> refused;
 *  - the state uses a feature the destination lacks (a section, a feature's subsection or a
 *    version it does not know is sent) -> refused by the destination (for that reason, or for an
 *    earlier check of its hooks);
 *  - otherwise the state is representable -> ok, even when the source sends a subsection the
 *    destination lacks (that subsection must be kept off by the machine type's compat
 *    properties: sending it is the break);
 *  - and on a migration to a newer release always ok unless the source refuses.
 *
 * A break is any migration that does not end as due: lossy, crash, refused where ok was due, or
 * ok where refusal was due; see `violation`.
 */
/** What a break is, in the words README, `check`, `compat` and the heatmap's legend all use. */
export const BREAK_SENTENCE =
  "A break is a migration QEMU's contract forbids: one to a newer release that does not load; one to an older " +
  'release, on the older machine type, that is refused although the VM uses no guest or host feature the older ' +
  'release lacks (a feature is a subsection of real QEMU, sent only while the feature is in use); or any lossy ' +
  'load or crash.';

import type { AnyVMSDesc } from '../dsl/vmsd';
import { sectionKey, type Release } from './release';
import type { MigrationCache, MigrationOutcome, Source, SourceResult } from './migrate';
import { knownSubsections } from './sent';

export type Expectation =
  | {
      readonly kind: 'ok';
      /** On a migration to a newer release: what the newer destination lacks (so it will refuse, a bug of the newer side). */
      readonly lacking?: readonly string[];
      /**
       * The state is representable on the destination, yet the source sends these (subsections
       * of no feature) that the destination lacks on this machine type: the refusal that follows
       * is the source's break.
       */
      readonly sentButUnknown?: readonly string[];
      /** For messages: the destination and the machine type. */
      readonly where?: { readonly to: string; readonly machine: string };
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
 * `forward` (older release to newer) strengthens the contract: the newer release must load
 * whatever the older one sends, so ok is due whenever the source writes a stream at all.
 */
export function expectedOutcome(
  cache: MigrationCache,
  from: Source,
  to: { readonly release: Release },
  forward = false,
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

  const { reasons, lacking, unknownToDestination } = lackingAt(src, from.release, to.release);
  if (forward) {
    const all = [...lacking, ...unknownToDestination];
    return all.length ? { kind: 'ok', lacking: all } : { kind: 'ok' };
  }
  if (reasons.length) return { kind: 'refused', side: 'destination', reasons, lacking };
  return unknownToDestination.length
    ? {
        kind: 'ok',
        sentButUnknown: unknownToDestination,
        where: { to: to.release.name, machine: from.machine },
      }
    : { kind: 'ok' };
}

/** What a destination lacks of what a source wrote: by reason, and subsections of no feature. */
interface Lacking {
  readonly reasons: readonly string[];
  readonly lacking: readonly string[];
  readonly unknownToDestination: readonly string[];
}

/** lackingOf, made once per source output and destination (a matrix asks in many cells). */
const lackingCache = new WeakMap<object, Map<Release, Lacking>>();
function lackingAt(
  src: Extract<SourceResult, { done: true }>,
  fromRelease: Release,
  toRelease: Release,
): Lacking {
  let byDestination = lackingCache.get(src);
  if (!byDestination) lackingCache.set(src, (byDestination = new Map()));
  let l = byDestination.get(toRelease);
  if (!l) byDestination.set(toRelease, (l = lackingOf(src, fromRelease, toRelease)));
  return l;
}

function lackingOf(
  src: Extract<SourceResult, { done: true }>,
  fromRelease: Release,
  toRelease: Release,
): Lacking {
  const reasons: string[] = [];
  const lacking: string[] = [];
  const unknownToDestination: string[] = [];
  const lack = (reason: string, what: string) => {
    if (!reasons.includes(reason)) reasons.push(reason);
    lacking.push(what);
  };
  for (const [key, sent] of src.sent) {
    const mine = fromRelease.catalog.find((c) => sectionKey(c.name, c.instance) === key)!;
    const theirs = toRelease.catalog.find(
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
      const feature = fromRelease.featureOf(s.name);
      if (!d) {
        if (feature) lack('unknown-subsection', `subsection ${s.name} (${feature})`);
        else unknownToDestination.push(`subsection ${s.name}`);
      } else if (s.version > d.version_id)
        lack('version-too-new', `${s.name} version ${s.version} (destination: ${d.version_id})`);
      else if (s.version < d.minimum_version_id)
        lack(
          'version-too-old',
          `${s.name} version ${s.version} (destination minimum: ${d.minimum_version_id})`,
        );
    }
  }
  return { reasons, lacking, unknownToDestination };
}

/** Why an outcome breaks the migration property for this expectation, or undefined when it keeps it. */
export function violation(actual: MigrationOutcome, expected: Expectation): string | undefined {
  if (actual.kind === 'crash') return 'crash: an exception that is not a VMStateError';
  if (actual.kind === 'lossy')
    return `lossy: ${actual.changed.length} value(s) the source sent did not arrive as sent`;
  if (expected.kind === 'ok') {
    if (actual.kind === 'refused' && expected.sentButUnknown?.length && expected.where)
      return (
        `refused by the ${actual.refusal.side} (${actual.refusal.reason}) although QEMU ${expected.where.to} can represent this VM ` +
        `(it uses no feature ${expected.where.to} lacks): on ${expected.where.machine} the source sends ${expected.sentButUnknown.join(', ')}, ` +
        `which ${expected.where.to} does not know; a compat property of ${expected.where.machine} must keep it off`
      );
    if (actual.kind === 'refused')
      return expected.lacking?.length
        ? `refused by the ${actual.refusal.side} (${actual.refusal.reason}) on a migration to a newer release, which lacks ${expected.lacking.join(', ')}`
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
