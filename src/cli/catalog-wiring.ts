/**
 * Plugs the device catalog (vmstate/catalog-7.2.ts) into `vmstate analyze`, `reencode` and
 * `edit`: a second way to decode device sections (streams that carry no VM description, e.g.
 * suppress-vmdesc=on) and the `--check-catalog` report. Loaded only by those commands.
 */
import type { Ctx } from '../dsl/kind';
import { checkAgainstCatalog, formatCatalogCheck, type CheckCatalog } from '../analyze/catalog-check';
import { setCatalogHooks } from '../analyze/catalog-hook';
import type { CodecResolver } from '../stream/section';
import type { Catalog, CatalogEntry } from '../../vmstate/catalog-7.2';

/**
 * The catalog module (every device and the x86 cpu) is loaded on first use: most streams carry
 * their own description, which decodes them first, and loading it would double start-up time.
 */
type CatalogModule = typeof import('../../vmstate/catalog-7.2');
let catalogModule: CatalogModule | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catalogLib = (): CatalogModule => (catalogModule ??= require('../../vmstate/catalog-7.2') as CatalogModule);

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
      resolvers = { pc: lib.catalogResolver(lib.CATALOG_7_2.pc, ctx), q35: lib.catalogResolver(lib.CATALOG_7_2.q35, ctx) };
    }
    return (isQ35 ? resolvers.q35 : resolvers.pc)(section, kind);
  };
}

function checkCatalogOf(catalog: Catalog, ctx: Ctx): CheckCatalog {
  return {
    machineType: catalog.machineType,
    lookup: (idstr) => catalog.lookup(idstr),
    load: (entry, r, version, path) => catalogLib().loadSection(entry as CatalogEntry, r, version, ctx, path),
    describe: (entry, state) => catalogLib().saveSection(entry as CatalogEntry, state, ctx),
  };
}

export function wireCatalog(ctx: Ctx = {}): void {
  setCatalogHooks({
    resolvers: () => [machineAwareResolver(ctx)],
    check: async (contents, file, out) => {
      const catalog = catalogLib().catalogFor(contents.configuration?.machineType);
      const report = checkAgainstCatalog(contents, checkCatalogOf(catalog, ctx));
      out.write(formatCatalogCheck(report, file));
      return report.mismatches > 0 ? 1 : 0;
    },
  });
}
