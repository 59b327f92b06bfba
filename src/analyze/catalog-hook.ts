import type { CodecResolver } from '../stream/section';
import type { StreamContents } from '../stream/collect';

/**
 * Where the device catalog (vmstate/) plugs into `vmstate analyze`. Nothing is wired here yet:
 * the catalog's owner sets these (from the catalog's entry module) when it exists.
 *
 * - catalogResolvers: a second way to decode device sections (streams without a vmdesc);
 * - catalogCheck: `--check-catalog`, comparing each vmdesc-decoded section with the catalog's
 *   description; resolves to the exit code (0 all match, 1 differences) after printing a report.
 */
export interface CatalogHooks {
  resolvers?: () => CodecResolver[];
  check?: (contents: StreamContents, file: string, out: NodeJS.WritableStream) => Promise<number>;
}

const hooks: CatalogHooks = {};

export function setCatalogHooks(h: CatalogHooks): void {
  Object.assign(hooks, h);
}

export function catalogResolvers(): CodecResolver[] {
  return hooks.resolvers?.() ?? [];
}

export function catalogCheck(): CatalogHooks['check'] {
  return hooks.check;
}
