/**
 * Helpers for JSON inputs checked against a schema (`vmstate check` dumps, `--state` files):
 * a nesting bound checked before anything recurses, and the key a schema issue names.
 */

/** The JSON path of the first value nested more than `max` levels deep, without recursing. */
export function deeperThan(root: unknown, max: number): string | undefined {
  const stack: [unknown, number, string][] = [[root, 0, '']];
  while (stack.length) {
    const [v, depth, at] = stack.pop()!;
    if (depth > max) return at;
    if (v && typeof v === 'object')
      for (const [k, c] of Object.entries(v))
        if (c && typeof c === 'object')
          stack.push([c, depth + 1, Array.isArray(v) ? `${at}[${k}]` : at ? `${at}.${k}` : k]);
  }
  return undefined;
}

/** A schema issue's path as a key: `cpu.Description.Fields[3].size`. */
export function issueKey(path: readonly PropertyKey[], prefix?: string): string {
  return [
    ...(prefix === undefined ? [] : [prefix]),
    ...path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))),
  ]
    .join('.')
    .replace(/\.\[/g, '[');
}
