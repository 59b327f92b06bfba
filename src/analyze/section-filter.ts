/** `--section NAME` (repeatable, glob): which sections of a stream are shown. */
import type { StreamContents, TopLevelEntry } from '../stream/collect';

/** Glob over section names (`*`, `?`), matched against `idstr` and `idstr#instance`. */
export function sectionMatcher(
  patterns: readonly string[],
): (idstr: string, instance: number) => boolean {
  if (patterns.length === 0) return () => true;
  const res = patterns.map(
    (p) =>
      new RegExp(
        '^' +
          p
            .split('')
            .map((c) =>
              c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'),
            )
            .join('') +
          '$',
      ),
  );
  return (idstr, instance) => {
    const full = `${idstr}#${instance}`;
    return res.some((r) => r.test(idstr) || r.test(full));
  };
}

/**
 * The contents with only the sections a pattern names (device sections by idstr, the RAM
 * section as `ram`); commands and trailing bytes go when a filter is given. Unfiltered: as is.
 */
export function filterSections(c: StreamContents, patterns: readonly string[]): StreamContents {
  if (patterns.length === 0) return c;
  const match = sectionMatcher(patterns);
  const keep = (e: TopLevelEntry) =>
    e.type === 'section'
      ? match(e.section.idstr, e.section.instanceId)
      : e.type === 'ram-section'
        ? match(e.idstr, e.instanceId)
        : false;
  return { ...c, entries: c.entries.filter(keep) };
}
