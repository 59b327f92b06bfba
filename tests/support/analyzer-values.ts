/**
 * Compares a state our description loaded with what QEMU's own analyze-migration.py decoded
 * from the stream's VM description (its JSON: hex strings keyed by the fields' wire names, a
 * repeated name suffixed [0], [1]...; subsections as nested objects whose fields live in the
 * same flat state on our side; VMSTATE_WITH_TMP and VMSTATE_UNUSED as raw bytes).
 */
import type { AnyVMSDesc, State } from '../../src';

/** '0x%0*x', '0xffffffff (-1)' for a signed field, '0x-1' for a negative one. */
function pyInt(s: string): bigint | undefined {
  const signed = /^0x[0-9a-f]+ \((-?\d+)\)$/i.exec(s);
  if (signed) return BigInt(signed[1]);
  const m = /^0x(-?)([0-9a-f]+)$/i.exec(s);
  if (!m) return undefined;
  const v = BigInt(`0x${m[2]}`);
  return m[1] ? -v : v;
}

const pyBytes = (s: string): string | undefined =>
  /^([0-9a-f]{2}( |$))+$/i.test(s) ? s.replace(/ /g, '').toLowerCase() : undefined;

function asBig(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return undefined;
}

/** Big-endian bytes of a temporary's values, in its fields' order (what travels). */
function tmpBytes(desc: AnyVMSDesc, s: State): string {
  return desc.fields
    .map((f) => {
      const size = f.kind.wireSize ?? 0;
      return BigInt.asUintN(size * 8, asBig(s[f.key]) ?? 0n)
        .toString(16)
        .padStart(size * 2, '0');
    })
    .join('');
}

function valueDifferences(
  theirs: unknown,
  ours: unknown,
  path: string,
  desc?: AnyVMSDesc,
): string[] {
  if (typeof theirs === 'string') {
    const bytes = pyBytes(theirs);
    if (bytes !== undefined && desc && ours && typeof ours === 'object')
      return tmpBytes(desc, ours as State) === bytes ? [] : [`${path}: ${theirs} differs`];
    if (bytes !== undefined && ours instanceof Uint8Array)
      return Buffer.from(ours).toString('hex') === bytes ? [] : [`${path}: bytes differ`];
    const t = pyInt(theirs);
    const o = asBig(ours);
    if (t !== undefined && o !== undefined)
      return BigInt.asUintN(64, t) === BigInt.asUintN(64, o) ? [] : [`${path}: ${theirs} != ${o}`];
    return theirs === ours ? [] : [`${path}: ${theirs} != ${String(ours)}`];
  }
  if (Array.isArray(theirs)) {
    if (!Array.isArray(ours)) return [`${path}: array != ${typeof ours}`];
    return theirs.flatMap((t, i) => valueDifferences(t, ours[i], `${path}[${i}]`, desc));
  }
  if (theirs && typeof theirs === 'object') {
    if (desc)
      return sectionDifferences(theirs as Record<string, unknown>, ours as State, desc, path);
    const o = (ours ?? {}) as Record<string, unknown>;
    return Object.entries(theirs).flatMap(([k, t]) => valueDifferences(t, o[k], `${path}.${k}`));
  }
  return theirs === ours ? [] : [`${path}: ${String(theirs)} != ${String(ours)}`];
}

/** The analyzer's object for one description against our state for it. */
export function sectionDifferences(
  section: Record<string, unknown>,
  state: State,
  desc: AnyVMSDesc,
  path = desc.name,
): string[] {
  const counts = new Map<string, number>();
  for (const f of desc.fields) counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  const byWire = new Map<string, (typeof desc.fields)[number]>();
  for (const f of desc.fields) {
    const i = seen.get(f.name) ?? 0;
    seen.set(f.name, i + 1);
    byWire.set(counts.get(f.name)! > 1 ? `${f.name}[${i}]` : f.name, f);
  }
  const subs = new Map((desc.subsections as readonly AnyVMSDesc[]).map((d) => [d.name, d]));
  return Object.entries(section).flatMap(([k, v]): string[] => {
    // VMSTATE_UNUSED padding has no state: it must be the zeros we write in its place.
    if (k === 'unused')
      return String(v).replace(/[ 0]/g, '') === '' ? [] : [`${path}.unused: not zero`];
    const sub = subs.get(k);
    if (sub) return sectionDifferences(v as Record<string, unknown>, state, sub, `${path}/${k}`);
    const f = byWire.get(k);
    if (!f) return [`${path}.${k}: no such field in our description`];
    const inner = (f.kind as { desc?: AnyVMSDesc }).desc;
    return valueDifferences(v, (state as Record<string, unknown>)[f.key], `${path}.${k}`, inner);
  });
}
