/**
 * Plugs the device catalog (vmstate/catalog.ts, one per real release and machine type) into
 * `vmstate analyze`, `reencode` and `edit`: a second way to decode device sections (streams that
 * carry no VM description, e.g. suppress-vmdesc=on), the VM description it gives such a stream,
 * and the `--check-catalog` report. Loaded only by those commands.
 */
import type { Ctx } from '../dsl/kind';
import {
  checkAgainstCatalog,
  formatCatalogCheck,
  type CheckCatalog,
} from '../analyze/catalog-check';
import type { AnalysisCatalog, CatalogOptions, Rewalk } from '../analyze/analysis-catalog';
import { nestedPageLayouts, nestedStateView } from '../../vmstate/x86/nested-view';
import {
  describeByCatalog,
  styledEntry,
  type CatalogDescription,
  type DescribingCatalog,
  type SectionDescription,
} from '../analyze/catalog-vmdesc';
import type { CodecResolver, DeviceSection } from '../stream/section';
import type { VmdescDevice } from '../stream/vmdesc';
import type { State } from '../dsl/kind';
import type { Catalog, CatalogEntry } from '../../vmstate/catalog';

/**
 * The catalog module (every device and the x86 cpu) is loaded on first use: most streams carry
 * their own description, which decodes them first, and loading it would double start-up time.
 */
type CatalogModule = typeof import('../../vmstate/catalog');
let catalogModule: CatalogModule | undefined;
const catalogLib = (): CatalogModule =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (catalogModule ??= require('../../vmstate/catalog') as CatalogModule);

/** Sections that only a q35 machine has: once one is seen, later sections use the q35 catalog. */
const Q35_ONLY = /(^|\/)(mch|ICH9LPC|ich9_ahci|ich9_smb)$/;

/**
 * A stream does not say what host wrote it. Decoding without a description assumes a KVM host
 * whose vCPUs can hold nested state, so a cpu section that carries it loads (QEMU under TCG
 * would abort); hooks only check, they never change what is read.
 */
export const ANALYSIS_CTX: Ctx = {
  accel: 'kvm',
  cpu: { vmx: true, svm: true },
  kvm: { nestedStateMax: 8320, exceptionPayload: true },
};

/** The hosts a stream may have come from: what needed() decides differs between them (e.g. cpu/poll_control_msr). */
const HOSTS: readonly { name: string; ctx: Ctx }[] = [
  { name: 'TCG', ctx: {} },
  { name: 'KVM', ctx: ANALYSIS_CTX },
];

/** "10.0" -> 10.0 as a comparable pair. */
function versionKey(v: string): number {
  const [a, b] = v.split('.').map(Number);
  return (a ?? 0) * 1000 + (b ?? 0);
}

/** The release a machine type of `machineType`'s version came from, or the newest one. */
function defaultRelease(machineType: string | undefined): string {
  return candidateReleases(machineType)[0]!;
}

/** Worked out once per machine type: every walk asks (the fuzz campaign, once an input). */
const candidates = new Map<string | undefined, readonly string[]>();

/**
 * Releases that could have written a stream of this machine type, most likely first: the
 * release whose own newest machine type it is, then the later ones (oldest first); for an
 * unversioned or unknown machine type, newest first.
 */
export function candidateReleases(machineType: string | undefined): string[] {
  let list = candidates.get(machineType);
  if (!list) candidates.set(machineType, (list = workOutCandidates(machineType)));
  return [...list];
}

function workOutCandidates(machineType: string | undefined): string[] {
  const all = [...catalogLib().REAL_CATALOG_RELEASES].sort((a, b) => versionKey(b) - versionKey(a));
  const v = machineType === undefined ? undefined : /-(\d+\.\d+)$/.exec(machineType)?.[1];
  if (v === undefined) return all;
  const later = all.filter((r) => versionKey(r) >= versionKey(v)).reverse();
  return later.length ? later : all;
}

/**
 * Catalogs are values (nothing changes one once built), so each release x machine type is built
 * once per process: every walk asks for one, `describe` once per candidate release, and the fuzz
 * campaign once per input; building it anew also made the engine's per-description caches
 * (initial values, pre_load flags) start cold each time.
 */
const catalogs = new Map<string, { catalog: Catalog; notes: readonly string[] }>();

/**
 * The release's catalog on a machine type. A machine type the release does not have yet (newer
 * than the release) is taken as the release's newest of that chipset, and `note` says so.
 */
function catalogForStream(
  release: string,
  machineType: string | undefined,
): { catalog: Catalog; notes: string[] } {
  const key = `${release}\u0000${machineType ?? ''}`;
  let built = catalogs.get(key);
  if (!built) catalogs.set(key, (built = buildCatalogForStream(release, machineType)));
  return { catalog: built.catalog, notes: [...built.notes] };
}

function buildCatalogForStream(
  release: string,
  machineType: string | undefined,
): { catalog: Catalog; notes: string[] } {
  const lib = catalogLib();
  const v = machineType === undefined ? undefined : /-(\d+\.\d+)$/.exec(machineType)?.[1];
  if (v !== undefined && versionKey(v) > versionKey(release)) {
    const chipset = /q35/.test(machineType!) ? 'q35' : 'pc';
    const catalog = lib.catalogOf(release, lib.newestMachineType(release, chipset));
    return {
      catalog,
      notes: [
        `machine type differs: the stream's ${machineType} is newer than release ${release}; compared on ${catalog.machineType}, so differences may be the machine types' compat properties`,
      ],
    };
  }
  const catalog = lib.catalogOf(release, machineType);
  return { catalog, notes: catalog.assumed ? [catalog.assumed] : [] };
}

/** The resolver of one catalog, its machine-type properties under the analysis host's ctx (it keeps no state but its codecs). */
const catalogResolvers = new WeakMap<Catalog, CodecResolver>();
function resolverOf(catalog: Catalog): CodecResolver {
  let r = catalogResolvers.get(catalog);
  if (!r) {
    r = catalogLib().catalogResolver(catalog, catalogLib().catalogCtx(catalog, ANALYSIS_CTX));
    catalogResolvers.set(catalog, r);
  }
  return r;
}

/** The catalog's machine type of a chipset and version (the module loaded on first use). */
const machineTypeOf = (chipset: 'pc' | 'q35', version: string): string =>
  catalogLib().machineTypeOf(chipset, version);

/**
 * hw_compat_2_3 turns send-configuration off: a stream whose head has no configuration section
 * was written on a machine type of 2.3 or older, whose layouts differ from the newest ones (e.g.
 * piix4_pm), so its sections are read on the 2.3 machine types.
 */
const WITHOUT_CONFIGURATION = '2.3';

/**
 * The candidate releases for a stream without a configuration section: those that have the 2.3
 * machine type first (10.0 no longer has pc-i440fx-2.3), newest first. The release list is
 * loaded only for such streams.
 */
function releasesWithoutConfiguration(): string[] {
  const machineType = machineTypeOf('pc', WITHOUT_CONFIGURATION);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { releases } = require('../../vmstate/releases') as typeof import('../../vmstate/releases');
  const has = (r: string) => !!releases[r]?.machineTypes.some((m) => m.name === machineType);
  const all = candidateReleases(undefined);
  return [...all.filter(has), ...all.filter((r) => !has(r))];
}

/** Why a stream without a configuration section is read on a 2.3 machine type. */
const withoutConfigurationNote = (machineType: string): string =>
  `the stream has no configuration section (machine types of 2.3 and older send none): assumed ${machineType}`;

/**
 * Without a machine type (stdin, or no configuration section) the chipset is learnt from the
 * sections: on q35 the mch section comes before the one section whose layout differs between the
 * two (PCIBUS: 4 IRQ lines on i440fx, 8 on q35). `version` is the machine types' version: the
 * release's own, or 2.3 for a stream without a configuration section.
 */
function chipsetLearningResolver(release: string, version: string): CodecResolver {
  let resolvers: { pc: CodecResolver; q35: CodecResolver } | undefined;
  let isQ35 = false;
  return (section, kind) => {
    if (Q35_ONLY.test(section.idstr)) isQ35 = true;
    resolvers ??= {
      pc: resolverOf(catalogForStream(release, machineTypeOf('pc', version)).catalog),
      q35: resolverOf(catalogForStream(release, machineTypeOf('q35', version)).catalog),
    };
    return (isQ35 ? resolvers.q35 : resolvers.pc)(section, kind);
  };
}

/**
 * Built when a section first asks (one the stream's description does not decode): a stream that
 * describes all its sections never loads the catalog module (a third of analyze's start-up).
 */
function resolversFor(opts: CatalogOptions = {}): CodecResolver[] {
  let resolver: CodecResolver | undefined;
  const build = (): CodecResolver => {
    const release =
      opts.release ??
      (opts.machineType === undefined && opts.withoutConfiguration
        ? releasesWithoutConfiguration()[0]!
        : defaultRelease(opts.machineType));
    if (opts.machineType === undefined)
      return chipsetLearningResolver(
        release,
        opts.withoutConfiguration ? WITHOUT_CONFIGURATION : release,
      );
    return resolverOf(catalogForStream(release, opts.machineType).catalog);
  };
  return [(section, kind) => (resolver ??= build())(section, kind)];
}

/** Where a state written back first differs from the section's bytes. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

type VmdescEntry = Omit<VmdescDevice, 'name' | 'instance_id'>;

function describingCatalog(catalog: Catalog, assumed: string[]): DescribingCatalog {
  const lib = catalogLib();
  const where = `the ${catalog.release} catalog (${catalog.machineType})`;
  return {
    release: catalog.release,
    machineType: catalog.machineType,
    assumed,
    vmdescConfiguration: catalog.vmdescConfiguration,
    vmdescStyle: catalog.vmdescStyle,
    describe(s: DeviceSection): SectionDescription {
      const entry = catalog.lookup(s.idstr);
      const name = s.idstr.slice(s.idstr.lastIndexOf('/') + 1);
      if (!entry) return { lacks: `${where} has no description of device '${name}'` };
      if (s.decodedBy !== 'catalog')
        return { lacks: `${where} cannot read device '${name}' (its description does not fit)` };
      let closest = -1;
      // The host decides some needed(): the description QEMU wrote is the one that gives back its bytes.
      for (const host of HOSTS) {
        const ctx = lib.catalogCtx(catalog, host.ctx);
        let saved;
        try {
          saved = lib.saveSection(entry, s.value as State, ctx);
        } catch {
          continue;
        }
        if (Buffer.from(saved.bytes).equals(Buffer.from(s.body)))
          return { vmdesc: saved.vmdesc as unknown as VmdescEntry };
        closest = Math.max(closest, firstDifference(saved.bytes, s.body));
      }
      return {
        lacks: `${where} reads device '${name}' but does not write it back as sent${closest >= 0 ? ` (first difference at body byte ${closest})` : ''}`,
      };
    },
  };
}

/**
 * The VM description a stream without one gets from the catalog: the given release's, or the
 * first candidate release whose catalog describes the most sections (said in `assumed`).
 */
async function describe(
  rewalk: Rewalk,
  opts: CatalogOptions,
): Promise<CatalogDescription | undefined> {
  const releases = opts.release
    ? [opts.release]
    : opts.machineType === undefined && opts.withoutConfiguration
      ? releasesWithoutConfiguration()
      : candidateReleases(opts.machineType);
  // Without a configuration section: the 2.3 machine type first, then the release's newest (the
  // property may have been turned off by hand).
  const oldMachine = opts.withoutConfiguration
    ? machineTypeOf('pc', WITHOUT_CONFIGURATION)
    : undefined;
  const machineTypes =
    opts.machineType !== undefined ? [opts.machineType] : [oldMachine, undefined];
  let best: CatalogDescription | undefined;
  for (const release of releases)
    for (const machineType of new Set(machineTypes)) {
      const { catalog, notes } = catalogForStream(release, machineType);
      const assumed = [...notes];
      if (machineType !== undefined && machineType === oldMachine)
        assumed.push(withoutConfigurationNote(machineType));
      if (!opts.release)
        assumed.push(
          `the stream does not say which release wrote it: assumed ${release} (${releases.length > 1 ? `candidates ${releases.join(', ')}; ` : ''}--release to say)`,
        );
      const contents = await rewalk([resolverOf(catalog)]);
      const d = describeByCatalog(contents, describingCatalog(catalog, assumed));
      if (!best || d.described > best.described) best = d;
      if (d.lacking.length === 0) return best;
    }
  return best;
}

function checkCatalogOf(catalog: Catalog, ctx: Ctx): CheckCatalog {
  return {
    machineType: catalog.machineType,
    lookup: (idstr) => catalog.lookup(idstr),
    load: (entry, r, version, path) =>
      catalogLib().loadSection(entry as CatalogEntry, r, version, ctx, path),
    describe: (entry, state) => {
      const saved = catalogLib().saveSection(entry as CatalogEntry, state, ctx);
      return { ...saved, vmdesc: styledEntry(saved.vmdesc, catalog.vmdescStyle) };
    },
  };
}

/** vmstate/'s catalogs of the real releases as the analysis commands take them. */
export function analysisCatalog(): AnalysisCatalog {
  return {
    views: [nestedStateView],
    // Only explore reads them: worked out when read, not on every analyze (0.26 ms of a run).
    get pageLayouts() {
      return nestedPageLayouts();
    },
    resolvers: (opts) => resolversFor(opts),
    describe,
    releases: () => catalogLib().REAL_CATALOG_RELEASES,
    check: async (contents, file, out, opts = {}) => {
      const chipset = contents.entries.some(
        (e) => e.type === 'section' && Q35_ONLY.test(e.section.idstr),
      )
        ? 'q35'
        : 'pc';
      const oldMachine =
        contents.configuration || !opts.withoutConfiguration
          ? undefined
          : machineTypeOf(chipset, WITHOUT_CONFIGURATION);
      const machineType = contents.configuration?.machineType ?? opts.machineType ?? oldMachine;
      const release =
        opts.release ??
        (oldMachine !== undefined
          ? releasesWithoutConfiguration()[0]!
          : defaultRelease(contents.configuration?.machineType ?? opts.machineType));
      const { catalog, notes } = catalogForStream(release, machineType);
      if (oldMachine !== undefined) notes.push(withoutConfigurationNote(oldMachine));
      if (!opts.release)
        notes.push(
          `the stream does not say which release wrote it: assumed ${release} (--release to say)`,
        );
      const lib = catalogLib();
      // The stream does not name its host: check as each and report the closer one.
      const reports = HOSTS.map((h) => ({
        host: h.name,
        report: checkAgainstCatalog(
          contents,
          checkCatalogOf(catalog, lib.catalogCtx(catalog, h.ctx)),
        ),
      }));
      const best = reports.reduce((a, b) => (b.report.mismatches < a.report.mismatches ? b : a));
      out.write(
        formatCatalogCheck(best.report, file, best.host, {
          release: catalog.release,
          notes,
          described: !!contents.walk.vmdesc,
        }),
      );
      return best.report.mismatches > 0 ? 1 : 0;
    },
  };
}
