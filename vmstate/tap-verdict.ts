import { ByteReader } from '../src/bytes/reader';
import type { AnyVMSDesc } from '../src/dsl';
import type { Ctx } from '../src/dsl/kind';
import { loadFrom } from '../src/engine/load';
import { VMStateError } from '../src/errors';
import type { DeviceSection } from '../src/stream/section';
import type { MigrationCheck, SectionVerdict } from '../src/tap/verdict';
import * as catalog72 from './catalog-7.2';
import * as releaseIndex from './releases';

// The tap's default verdict (`vmstate tap --check RELEASE`): the catalog's descriptions.
const catalogLib = () => catalog72;
const releasesLib = () => releaseIndex;

export interface CatalogCheckOptions {
  /** The destination's machine type (-M); default: the stream's own, if the release has it. */
  machine?: string;
  /** The destination host (accelerator, vCPU features) the descriptions' hooks see. */
  ctx?: Ctx;
}

/** Names of the releases a catalog verdict can be given for. */
export function checkableReleases(): string[] {
  return Object.keys(releasesLib().releases);
}

/** The machine types a release has (for `--machine` with `--check`). */
export function releaseMachineTypes(release: string): string[] {
  return (releasesLib().releases[release]?.machineTypes ?? []).map((m) => m.name);
}

/**
 * The verdict of the catalog's descriptions: a release refuses a machine type it does not have
 * (or another than its -M), a section it has no description of (only where the catalog is
 * complete: 7.2's devices), a version above its version_id or below its minimum, and whatever
 * its loader refuses in the body (an unknown subsection, an `_EQUAL` mismatch, bytes left before
 * the footer). Sections of other releases that the catalog does not model are 'unchecked'.
 */
export function catalogCheck(release: string, opts: CatalogCheckOptions = {}): MigrationCheck {
  const r = releasesLib().releases[release];
  const { catalogFor } = catalogLib();
  if (!r) throw new Error(`no release '${release}' (releases: ${checkableReleases().join(', ')})`);
  const complete = r.name === '7.2';
  let machine = opts.machine;
  const ctx = opts.ctx ?? {};
  const describe = (s: DeviceSection): AnyVMSDesc | undefined => {
    const own = r.catalog.find((c) => c.name === s.idstr && c.instance === s.instanceId);
    if (own) return own.vmsd;
    if (r.catalog.some((c) => c.name === s.idstr)) return undefined; // an instance it lacks
    return complete ? catalogFor(machine).lookup(s.idstr)?.desc : undefined;
  };
  const knows = (s: DeviceSection) => complete || r.catalog.some((c) => c.name === s.idstr);
  return {
    release: r.name,
    configuration(machineType) {
      if (machineType === undefined) return { verdict: 'ok' };
      if (machine !== undefined && machine !== machineType)
        return {
          verdict: 'refused',
          reason: `Machine type received is '${machineType}' and local is '${machine}'`,
        };
      if (!r.machineTypes.some((m) => m.name === machineType))
        return {
          verdict: 'refused',
          reason: `QEMU ${r.name} has no machine type '${machineType}' (its newest: ${r.defaultMachine})`,
        };
      machine ??= machineType;
      return { verdict: 'ok' };
    },
    section(s): SectionVerdict {
      const desc = describe(s);
      if (!desc) {
        if (!knows(s)) return { verdict: 'unchecked', reason: `not modelled for ${r.name}` };
        return {
          verdict: 'refused',
          reason: `Unknown savevm section or instance '${s.idstr}' ${s.instanceId}`,
        };
      }
      if (s.versionId > desc.version_id)
        return {
          verdict: 'refused',
          reason: `${desc.name}: incoming version_id ${s.versionId} is too new for local version_id ${desc.version_id}`,
        };
      const min = desc.minimum_version_id ?? 0;
      if (s.versionId < min)
        return {
          verdict: 'refused',
          reason: `${desc.name}: incoming version_id ${s.versionId} is too old for local minimum_version_id ${min}`,
        };
      const reader = new ByteReader(s.body, s.bodyOffset);
      try {
        const into = catalogFor(machine).lookup(s.idstr)?.receiverState?.(ctx);
        loadFrom(reader, desc, s.versionId, {
          ctx,
          into,
          path: `${s.idstr}#${s.instanceId}`,
          endIsFinal: true,
        });
      } catch (e) {
        if (e instanceof VMStateError) return { verdict: 'refused', reason: e.what };
        throw e;
      }
      if (reader.pos !== s.body.length)
        return {
          verdict: 'refused',
          reason: `Missing section footer for ${s.idstr}: ${s.body.length - reader.pos} byte(s) of the body left unread`,
        };
      return { verdict: 'ok' };
    },
  };
}
