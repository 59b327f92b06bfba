import type { CodecResolver } from '../stream/section';
import type { StreamContents } from '../stream/collect';
import type { CatalogDescription } from './catalog-vmdesc';
import type { SectionView } from './section-view';

/** What the user said about the stream's origin (`--release`), and what its head says. */
export interface CatalogOptions {
  /** The real release that wrote the stream (`--release`); absent: worked out, and said so. */
  readonly release?: string;
  /** The machine type the stream's configuration section names. */
  readonly machineType?: string;
  /**
   * The stream's head has no configuration section: written with send-configuration off, as
   * hw_compat_2_3 sets it, so on a machine type of 2.3 or older (or with the property set by hand).
   */
  readonly withoutConfiguration?: boolean;
}

/** Walks the stream again with these resolvers (the first pass of a catalog decoding). */
export type Rewalk = (resolvers: CodecResolver[]) => Promise<StreamContents>;

/**
 * What a device catalog (vmstate/) gives `analyze`, `reencode` and `edit`, passed in by the
 * caller (src/cli wires vmstate/'s catalog in); the stream layer itself knows no device.
 *
 * - resolvers: a second way to decode device sections (streams without a vmdesc), for the
 *   release and machine type the options name;
 * - describe: the VM description the catalog gives a stream without one (catalog-vmdesc.ts),
 *   picking the release when none was given; undefined when no release's catalog applies;
 * - releases: the release names `--release` accepts;
 * - check: `--check-catalog`, comparing each vmdesc-decoded section with the catalog's
 *   description; resolves to the exit code (0 all match, 1 differences) after printing a report;
 * - views: the platform's own readings of sections for `--format json` and `tree`.
 */
export interface AnalysisCatalog {
  resolvers(opts?: CatalogOptions): CodecResolver[];
  readonly views?: readonly SectionView[];
  /** Where each field of the views' raw pages lives ([offset, size] by name, per page kind). */
  readonly pageLayouts?: Record<string, Record<string, [number, number]>>;
  describe?(rewalk: Rewalk, opts: CatalogOptions): Promise<CatalogDescription | undefined>;
  releases?(): readonly string[];
  check?(
    contents: StreamContents,
    file: string,
    out: NodeJS.WritableStream,
    opts?: CatalogOptions,
  ): Promise<number>;
}

/** No catalog: sections decode only by the description the stream (or --vmdesc) carries. */
export const NO_CATALOG: AnalysisCatalog = { resolvers: () => [] };
