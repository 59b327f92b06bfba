import type { CodecResolver, DeviceSection } from '../stream/section';
import type { StreamContents } from '../stream/collect';
import { isDescStruct, type DescStruct } from '../stream/vmdesc-value';

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
  /**
   * A catalog-decoded section as the vmdesc interpreter would have decoded it (types, offsets,
   * sizes), so output shows it with the same layout as a description-decoded one.
   */
  layout?: (section: DeviceSection) => DescStruct | undefined;
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

const layouts = new WeakMap<DeviceSection, DescStruct | null>();

/** The section's fields with their places: its own decoded value, or the catalog's layout of it. */
export function sectionStruct(s: DeviceSection): DescStruct | undefined {
  if (isDescStruct(s.value)) return s.value;
  if (s.value === undefined || !hooks.layout) return undefined;
  let l = layouts.get(s);
  if (l === undefined) {
    l = hooks.layout(s) ?? null;
    layouts.set(s, l);
  }
  return l ?? undefined;
}
