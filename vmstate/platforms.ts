/**
 * The destinations `vmstate predict` can load a stream into, built from the catalog: for each
 * release it knows, the section descriptions that release registers on a machine type. A
 * release added to the catalog (a device catalog per real release, or a simulated release) is
 * one more entry in `sources` below; nothing in src/predict changes.
 *
 *  - real releases: the device catalogs (vmstate/catalog-*.ts): every section a pc/q35 machine
 *    sends, on the machine types each catalog describes;
 *  - simulated releases and designs (vmstate/releases, vmstate/designs): the timer, cpu_common
 *    and cpu sections of the streams `vmstate generate` writes, on all their machine types.
 */
import type { Ctx } from '../src/dsl/kind';
import type { LoadPlatform, PlatformCatalog, PlatformSection } from '../src/predict/platform';
import { catalogCtx, catalogOf, sectionName, type Catalog } from './catalog';
import { RELEASES } from './catalog-releases';
import { REGISTERED_SECTIONS } from './registered-sections';
import { designs, releases } from './releases';
import { findMachine, machineCtx } from './releases/generate';
import type { Release } from './releases/types';
import type { X86Ctx } from './x86/ctx';

/** MIG_CMD_MAX - 1 of a simulated release: 7.2 knows commands up to RECV_BITMAP (10). */
const MAX_COMMAND_7_2 = 10;

interface Source {
  readonly release: string;
  /** 'real': a device catalog of a real release; 'simulated': a simulated release or design. */
  readonly kind: 'real' | 'simulated';
  readonly machineTypes: readonly string[];
  resolve(machine: string): string | undefined;
  platform(machineType: string, host: Ctx): LoadPlatform;
}

function deviceCatalogSource(
  release: string,
  catalogs: readonly Catalog[],
  maxCommand: number,
): Source {
  const byType = new Map(catalogs.map((c) => [c.machineType, c]));
  const alias: Record<string, string> = {};
  // 'pc' and 'q35' name the release's newest machine type of the chipset: the first listed.
  for (const c of catalogs) alias[c.machine] ??= c.machineType;
  return {
    release,
    kind: 'real',
    machineTypes: catalogs.map((c) => c.machineType),
    resolve: (m) => (byType.has(m) ? m : alias[m]),
    platform: (machineType, host) => {
      const catalog = byType.get(machineType)!;
      const registered = new Set(REGISTERED_SECTIONS[release] ?? []);
      // The machine type's compat properties (hw_compat) under the host's: what needed() reads.
      const ctx = catalogCtx(catalog, host);
      return {
        release,
        machineType,
        ctx,
        iterative: ['ram'],
        maxCommand,
        section: (idstr, instance): PlatformSection | undefined => {
          const e = catalog.lookup(idstr);
          if (e?.fixedInstance !== undefined && instance !== e.fixedInstance) return undefined;
          return (
            e && {
              desc: e.desc,
              legacy: e.legacy,
              receiverState: e.receiverState && (() => e.receiverState!(ctx)),
            }
          );
        },
        // A section the catalog lacks is one the release registers but the catalog does not
        // describe (its load cannot be predicted), when the release's device classes have a
        // description of that name; any other QEMU refuses as unknown. An instance the
        // catalog's entry rules out is one the release does not register.
        undescribed: (idstr) =>
          catalog.lookup(idstr) || !registered.has(sectionName(idstr))
            ? undefined
            : `the ${release} catalog has no description of section '${sectionName(idstr)}'`,
      };
    },
  };
}

function simulatedSource(r: Release): Source {
  const names = r.machineTypes.map((m) => m.name);
  const newest = (family: string) => names.find((n) => n.startsWith(family));
  return {
    release: r.name,
    kind: 'simulated',
    machineTypes: names,
    resolve: (m) =>
      names.includes(m)
        ? m
        : m === 'q35'
          ? newest('pc-q35-')
          : m === 'pc'
            ? newest('pc-i440fx-')
            : undefined,
    platform: (machineType, host) => {
      const ctx = machineCtx(host as X86Ctx, findMachine(r, machineType)!);
      return {
        release: r.name,
        machineType,
        ctx,
        iterative: ['ram'],
        maxCommand: MAX_COMMAND_7_2,
        section: (idstr, instance) => {
          const c = r.catalog.find((x) => x.name === idstr && x.instance === instance);
          return c && { desc: c.vmsd };
        },
      };
    },
  };
}

/** Real releases first: where a simulated release has the same name (7.2), the real catalog wins. */
const sources: Source[] = Object.values(RELEASES).map((r) =>
  deviceCatalogSource(
    r.release,
    r.machineTypes.map((m) => catalogOf(r.release, m)),
    r.maxCommand,
  ),
);
for (const r of [...Object.values(releases), ...Object.values(designs)])
  if (!sources.some((s) => s.release === r.name)) sources.push(simulatedSource(r));

const byRelease = new Map(sources.map((s) => [s.release, s]));

/**
 * The hosts a destination may run on: what the cpu description's hooks check differs (a vCPU
 * under TCG has no nested-state buffer). The tests' real QEMUs run TCG.
 */
export const HOSTS: Readonly<Record<'tcg' | 'kvm', X86Ctx>> = {
  tcg: {},
  kvm: {
    accel: 'kvm',
    cpu: { vmx: true, svm: true },
    kvm: { nestedStateMax: 8320, exceptionPayload: true },
  },
};

/** The destinations the catalog describes: pass it to predictLoad through `platform()`. */
export const PLATFORMS: PlatformCatalog & {
  kindOf(release: string): 'real' | 'simulated' | undefined;
} = {
  releases: sources.map((s) => s.release),
  machineTypes: (release) => byRelease.get(release)?.machineTypes ?? [],
  resolveMachine: (release, machine) => byRelease.get(release)?.resolve(machine),
  platform: (release, machineType, host = {}) => {
    const s = byRelease.get(release);
    if (!s) throw new Error(`no platform for release ${release}`);
    if (!s.machineTypes.includes(machineType))
      throw new Error(`release ${release} has no machine type ${machineType} in the catalog`);
    return s.platform(machineType, host);
  },
  kindOf: (release) => byRelease.get(release)?.kind,
};
