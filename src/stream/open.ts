import type { Readable } from 'stream';
import { readStreamContents, type StreamContents } from './collect';
import { bytesSource, fileSource, readableSource, type ChunkSource } from './source';
import type { WalkOptions } from './walk';

/** A migration stream to read: a file path, a Node readable stream, or bytes in memory. */
export type StreamInput = string | Readable | Uint8Array;

/** Opens a stream input as the chunk source the walker reads (close it when done). */
export async function openStream(input: StreamInput): Promise<ChunkSource> {
  if (typeof input === 'string') return fileSource(input);
  if (input instanceof Uint8Array) return bytesSource(input);
  return readableSource(input);
}

/**
 * Decodes a whole stream (header, configuration, every section by the description it carries or
 * by `opts.resolvers`, RAM summarized, the VM description): what `vmstate analyze` prints.
 */
export async function decodeStream(
  input: StreamInput,
  opts: WalkOptions = {},
): Promise<StreamContents> {
  const source = await openStream(input);
  try {
    return await readStreamContents(source, opts);
  } finally {
    await source.close();
  }
}
