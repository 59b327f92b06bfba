/**
 * QEMU 7.2's catalog on its own pc-i440fx-7.2 / pc-q35-7.2 machine types: the catalog of
 * vmstate/catalog.ts at release 7.2, kept under its old names for existing callers.
 */
import { catalogOf, type Catalog, type Chipset, type MachineConfig } from './catalog';

export {
  catalogResolver,
  loadSection,
  saveSection,
  sectionName,
  type Catalog,
  type CatalogEntry,
  type LegacyVmdesc,
  type MachineConfig,
} from './catalog';

export type Machine72 = Chipset;

/** Both machines' catalogs. Devices of the other machine are there too (one can plug an e1000 into q35). */
export const CATALOG_7_2: Readonly<Record<Machine72, Catalog>> = {
  pc: catalogOf('7.2', 'pc-i440fx-7.2'),
  q35: catalogOf('7.2', 'pc-q35-7.2'),
};

/**
 * The 7.2 catalog for a machine type as a stream's configuration section or -M names it ('pc',
 * 'pc-q35-7.2'...), for the default -m/-smp configuration unless `config` says otherwise. The
 * catalog keeps 7.2's own machine type of that chipset, as before.
 */
export function catalogFor(machineType: string | undefined, config: MachineConfig = {}): Catalog {
  const q35 = machineType !== undefined && /q35/.test(machineType);
  if (config.memorySlots === undefined && config.maxCpus === undefined)
    return q35 ? CATALOG_7_2.q35 : CATALOG_7_2.pc;
  return catalogOf('7.2', q35 ? 'pc-q35-7.2' : 'pc-i440fx-7.2', config);
}
