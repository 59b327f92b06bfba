/**
 * What `vmstate explore` reads from a stream: its contents as `analyze` sees them (device
 * sections with their bytes and fields) and a map of its RAM pages, never their contents.
 */
import { readStreamContents, type StreamContents } from '../stream/collect';
import type { ChunkSource } from '../stream/source';
import type { WalkOptions } from '../stream/walk';
import { RamMapCollector } from './ram-map';

export interface ExploreModel {
  contents: StreamContents;
  ram: RamMapCollector;
}

export async function readExploreModel(
  source: ChunkSource,
  opts: WalkOptions & { keepPageLocations?: boolean } = {},
): Promise<ExploreModel> {
  const ram = new RamMapCollector(opts.keepPageLocations ?? false);
  const contents = await readStreamContents(source, { ...opts, onRam: ram.record });
  return { contents, ram };
}
