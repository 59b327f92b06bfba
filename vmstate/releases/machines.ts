/**
 * Machine types and their compat properties, the way QEMU builds them: release R's pc.c defines
 * a pc_compat_X_Y array for every older machine-type version X.Y, and machine type pc-*-M
 * applies every array from M up to R's own version (exclusive), so an old machine type on a new
 * QEMU behaves (and migrates) like the old QEMU did.
 *
 * The arrays are data declared by the release files (list/*.ts); this module only composes
 * them. Composition is explicit: an array is declared once, and a release's `extraCompat` may
 * only add properties to an array, never change one it already sets (that is refused).
 */
import { compareVersions, type QemuVersion } from '../x86/versions';
import type { MachineSpec, ReleaseSpec } from './spec';
import type { CompatProp, MachineFamily, MachineType } from './types';

export type CompatTable = Readonly<Record<string, readonly CompatProp[]>>;

/** A composition that would silently replace data: refused when the index is built. */
export class CompatConflictError extends Error {}

const propKey = (p: CompatProp) => `${p.driver}.${p.property}`;

/** Every pc_compat array the release files declare, each exactly once. */
export function compatTable(specs: readonly ReleaseSpec[]): CompatTable {
  const table: Record<string, readonly CompatProp[]> = {};
  const owner: Record<string, string> = {};
  for (const s of specs)
    for (const [v, props] of Object.entries(s.pcCompat ?? {})) {
      const who = s.name ?? s.version;
      if (v in table)
        throw new CompatConflictError(
          `pc_compat_${v.replace('.', '_')} is declared by both ${owner[v]} and ${who}`,
        );
      table[v] = props;
      owner[v] = who;
    }
  return table;
}

/**
 * `base` with a release's own additions. An addition may set a property the array does not
 * set, or repeat one with the same value; one that changes a value is refused.
 */
export function addCompat(
  base: CompatTable,
  extra: CompatTable | undefined,
  who: string,
): CompatTable {
  if (!extra) return base;
  const out: Record<string, readonly CompatProp[]> = { ...base };
  for (const [v, props] of Object.entries(extra)) {
    const have = new Map((out[v] ?? []).map((p) => [propKey(p), p.value]));
    const added: CompatProp[] = [];
    for (const p of props) {
      const old = have.get(propKey(p));
      if (old !== undefined && old !== p.value)
        throw new CompatConflictError(
          `${who}: extraCompat['${v}'] sets ${propKey(p)}=${p.value}, but pc_compat_${v.replace('.', '_')} already sets it to ${old}`,
        );
      if (old === undefined) {
        added.push(p);
        have.set(propKey(p), p.value);
      }
    }
    out[v] = [...(out[v] ?? []), ...added];
  }
  return out;
}

const DEFAULT_MACHINES: MachineSpec = { oldest: { 'pc-q35': '2.11', 'pc-i440fx': '2.11' } };
/** `-machine help` lists q35 before i440fx for each version; we keep that, newest first. */
const FAMILIES: readonly MachineFamily[] = ['pc-q35', 'pc-i440fx'];

const cmp = (a: string, b: string) => compareVersions(a as QemuVersion, b as QemuVersion);

/**
 * The pc-i440fx-* and pc-q35-* machine types a release offers (newest first), each with the
 * compat properties it applies there.
 */
export function machineTypesOf(spec: ReleaseSpec, table: CompatTable): MachineType[] {
  const who = spec.name ?? spec.version;
  const compat = addCompat(table, spec.extraCompat, who);
  const machines = spec.machines ?? DEFAULT_MACHINES;
  // Inherited versions: every declared array up to the release it follows (or below itself).
  const inherited = Object.keys(compat).filter((v) =>
    spec.follows ? cmp(v, spec.follows) <= 0 : cmp(v, spec.version) < 0,
  );
  const versions = [...new Set([...inherited, spec.version])].sort((a, b) => cmp(b, a));
  const line = spec.follows ?? spec.version;
  const propsFor = (m: string) =>
    versions
      .filter((c) => cmp(c, m) >= 0 && c !== spec.version)
      .flatMap((c) => compat[c] ?? [])
      .filter((p) => p.since === undefined || cmp(p.since, line) <= 0);
  const out: MachineType[] = [];
  for (const v of versions) {
    for (const family of FAMILIES) {
      if (cmp(v, machines.oldest[family]) < 0) continue;
      out.push({ name: `${family}-${v}`, family, version: v, compatProps: propsFor(v) });
      for (const x of machines.extra ?? [])
        if (x.compatOf === v && x.name.startsWith(`${family}-`))
          out.push({ name: x.name, family, version: v, compatProps: propsFor(v) });
    }
  }
  return out;
}

export { machineProps } from '../../src/compat/release';
