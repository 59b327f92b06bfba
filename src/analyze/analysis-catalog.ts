import type { CodecResolver } from '../stream/section';
import type { StreamContents } from '../stream/collect';
import type { SectionView } from './section-view';

/**
 * What a device catalog (vmstate/) gives `analyze`, `reencode` and `edit`, passed in by the
 * caller (src/cli wires vmstate/'s catalog in); the stream layer itself knows no device.
 *
 * - resolvers: a second way to decode device sections (streams without a vmdesc);
 * - check: `--check-catalog`, comparing each vmdesc-decoded section with the catalog's
 *   description; resolves to the exit code (0 all match, 1 differences) after printing a report;
 * - views: the platform's own readings of sections for `--format json` and `tree`.
 */
export interface AnalysisCatalog {
  resolvers(): CodecResolver[];
  readonly views?: readonly SectionView[];
  check?(contents: StreamContents, file: string, out: NodeJS.WritableStream): Promise<number>;
}

/** No catalog: sections decode only by the description the stream (or --vmdesc) carries. */
export const NO_CATALOG: AnalysisCatalog = { resolvers: () => [] };
