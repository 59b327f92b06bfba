/**
 * Plugs the device catalog (vmstate/catalog-7.2.ts) into `vmstate analyze`, `reencode` and
 * `edit`: a second way to decode device sections (streams that carry no VM description, e.g.
 * suppress-vmdesc=on) and the `--check-catalog` report. Loaded only by those commands.
 */
import type { Ctx } from '../dsl/kind';
import { checkAgainstCatalog, formatCatalogCheck, type CheckCatalog } from '../analyze/catalog-check';
import { setCatalogHooks } from '../analyze/catalog-hook';
import type { CodecResolver } from '../stream/section';
import { CATALOG_7_2, catalogFor, catalogResolver, loadSection, saveSection, type Catalog, type CatalogEntry } from '../../vmstate/catalog-7.2';

/** Sections that only a q35 machine has: once one is seen, later sections use the q35 catalog. */
const Q35_ONLY = /(^|\/)(mch|ICH9LPC|ich9_ahci|ich9_smb)$/;

/**
 * The catalog that matches the stream's machine. A resolver is not told the machine type, so it
 * learns it from the chipset sections: on q35 the mch section comes before the one section whose
 * layout differs between the two (PCIBUS: 4 IRQ lines on i440fx, 8 on q35).
 */
function machineAwareResolver(ctx: Ctx): CodecResolver {
  const pc = catalogResolver(CATALOG_7_2.pc, ctx);
  const q35 = catalogResolver(CATALOG_7_2.q35, ctx);
  let isQ35 = false;
  return (section, kind) => {
    if (Q35_ONLY.test(section.idstr)) isQ35 = true;
    return (isQ35 ? q35 : pc)(section, kind);
  };
}

function checkCatalogOf(catalog: Catalog, ctx: Ctx): CheckCatalog {
  return {
    machineType: catalog.machineType,
    lookup: (idstr) => catalog.lookup(idstr),
    load: (entry, r, version, path) => loadSection(entry as CatalogEntry, r, version, ctx, path),
    describe: (entry, state) => saveSection(entry as CatalogEntry, state, ctx),
  };
}

export function wireCatalog(ctx: Ctx = {}): void {
  setCatalogHooks({
    resolvers: () => [machineAwareResolver(ctx)],
    check: async (contents, file, out) => {
      const catalog = catalogFor(contents.configuration?.machineType);
      const report = checkAgainstCatalog(contents, checkCatalogOf(catalog, ctx));
      out.write(formatCatalogCheck(report, file));
      return report.mismatches > 0 ? 1 : 0;
    },
  });
}
