/**
 * Plugs the device catalog (vmstate/catalog-7.2.ts) into `vmstate analyze`, `reencode` and
 * `edit`: a second way to decode device sections (streams that carry no VM description, e.g.
 * suppress-vmdesc=on) and the `--check-catalog` report. Loaded only by those commands.
 */
import type { Ctx, State } from '../dsl/kind';
import {
  checkAgainstCatalog,
  formatCatalogCheck,
  type CheckCatalog,
} from '../analyze/catalog-check';
import { setCatalogHooks } from '../analyze/catalog-hook';
import type { CodecResolver, DeviceSection } from '../stream/section';
import type { DescStruct } from '../stream/vmdesc-value';
import { ByteReader } from '../bytes/reader';
import { decodeByVmdesc } from '../stream/vmdesc-codec';
import type { VmdescVmsd } from '../stream/vmdesc';
import type { Catalog, CatalogEntry } from '../../vmstate/catalog-7.2';

/**
 * The catalog module (every device and the x86 cpu) is loaded on first use: most streams carry
 * their own description, which decodes them first, and loading it would double start-up time.
 */
type CatalogModule = typeof import('../../vmstate/catalog-7.2');
let catalogModule: CatalogModule | undefined;
const catalogLib = (): CatalogModule =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (catalogModule ??= require('../../vmstate/catalog-7.2') as CatalogModule);

/** Sections that only a q35 machine has: once one is seen, later sections use the q35 catalog. */
const Q35_ONLY = /(^|\/)(mch|ICH9LPC|ich9_ahci|ich9_smb)$/;

/**
 * The catalog that matches the stream's machine. A resolver is not told the machine type, so it
 * learns it from the chipset sections: on q35 the mch section comes before the one section whose
 * layout differs between the two (PCIBUS: 4 IRQ lines on i440fx, 8 on q35).
 */
function machineAwareResolver(ctx: Ctx): CodecResolver {
  let resolvers: { pc: CodecResolver; q35: CodecResolver } | undefined;
  let isQ35 = false;
  return (section, kind) => {
    if (Q35_ONLY.test(section.idstr)) isQ35 = true;
    if (!resolvers) {
      const lib = catalogLib();
      resolvers = {
        pc: lib.catalogResolver(lib.CATALOG_7_2.pc, ctx),
        q35: lib.catalogResolver(lib.CATALOG_7_2.q35, ctx),
      };
    }
    return (isQ35 ? resolvers.q35 : resolvers.pc)(section, kind);
  };
}

function checkCatalogOf(catalog: Catalog, ctx: Ctx): CheckCatalog {
  return {
    machineType: catalog.machineType,
    lookup: (idstr) => catalog.lookup(idstr),
    load: (entry, r, version, path) =>
      catalogLib().loadSection(entry as CatalogEntry, r, version, ctx, path),
    describe: (entry, state) => catalogLib().saveSection(entry as CatalogEntry, state, ctx),
  };
}

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

/**
 * A catalog-decoded section's layout: the catalog describes the state it read (the vmdesc its
 * release would have written) and the body is decoded again by that description, which gives
 * every field its type, offset and size exactly as for a stream that carries its description.
 */
function catalogLayout(s: DeviceSection): DescStruct | undefined {
  if (s.decodedBy !== 'catalog' || s.kind !== 'full') return undefined;
  const lib = catalogLib();
  // The machine is not known here: the description that reads the body whole is the one.
  for (const catalog of [lib.CATALOG_7_2.q35, lib.CATALOG_7_2.pc])
    for (const host of HOSTS) {
      const entry = catalog.lookup(s.idstr);
      if (!entry) continue;
      try {
        const { vmdesc } = lib.saveSection(entry, s.value as State, host.ctx);
        const r = new ByteReader(s.body, s.bodyOffset);
        const struct = decodeByVmdesc(r, vmdesc as VmdescVmsd, s);
        if (r.atEnd) return struct;
      } catch {
        // not this machine's (or host's) description
      }
    }
  return undefined;
}

export function wireCatalog(): void {
  setCatalogHooks({
    layout: catalogLayout,
    resolvers: () => [machineAwareResolver(ANALYSIS_CTX)],
    check: async (contents, file, out) => {
      const catalog = catalogLib().catalogFor(contents.configuration?.machineType);
      // The stream does not name its host: check as each and report the closer one.
      const reports = HOSTS.map((h) => ({
        host: h.name,
        report: checkAgainstCatalog(contents, checkCatalogOf(catalog, h.ctx)),
      }));
      const best = reports.reduce((a, b) => (b.report.mismatches < a.report.mismatches ? b : a));
      out.write(formatCatalogCheck(best.report, file, best.host));
      return best.report.mismatches > 0 ? 1 : 0;
    },
  });
}
