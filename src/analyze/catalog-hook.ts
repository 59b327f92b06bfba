import type { CodecResolver } from '../stream/section';
import type { StreamContents } from '../stream/collect';
import type { CatalogDescription } from './catalog-vmdesc';

/** What the user said about the stream's origin (`--release`), and what its head says. */
export interface CatalogOptions {
  /** The real release that wrote the stream (`--release`); absent: worked out, and said so. */
  readonly release?: string;
  /** The machine type the stream's configuration section names. */
  readonly machineType?: string;
}

/** Walks the stream again with these resolvers (the first pass of a catalog decoding). */
export type Rewalk = (resolvers: CodecResolver[]) => Promise<StreamContents>;

/**
 * Where the device catalog (vmstate/) plugs into `vmstate analyze`, `reencode` and `edit`; set
 * by src/cli/catalog-wiring.ts, so that the library does not load the catalog by itself.
 *
 * - resolvers: a second way to decode device sections (streams without a vmdesc);
 * - describe: the VM description the catalog gives a stream without one (catalog-vmdesc.ts),
 *   picking the release when none was given; undefined when no release's catalog applies;
 * - check: `--check-catalog`, comparing each vmdesc-decoded section with the catalog's
 *   description; resolves to the exit code (0 all match, 1 differences) after printing a report.
 */
export interface CatalogHooks {
  resolvers?: (opts?: CatalogOptions) => CodecResolver[];
  describe?: (rewalk: Rewalk, opts: CatalogOptions) => Promise<CatalogDescription | undefined>;
  check?: (
    contents: StreamContents,
    file: string,
    out: NodeJS.WritableStream,
    opts?: CatalogOptions,
  ) => Promise<number>;
  /** The release names `--release` accepts. */
  releases?: () => readonly string[];
}

const hooks: CatalogHooks = {};

export function setCatalogHooks(h: CatalogHooks): void {
  Object.assign(hooks, h);
}

export function catalogResolvers(opts?: CatalogOptions): CodecResolver[] {
  return hooks.resolvers?.(opts) ?? [];
}

export function catalogCheck(): CatalogHooks['check'] {
  return hooks.check;
}

export function catalogDescribe(): CatalogHooks['describe'] {
  return hooks.describe;
}

export function catalogReleases(): readonly string[] {
  return hooks.releases?.() ?? [];
}
