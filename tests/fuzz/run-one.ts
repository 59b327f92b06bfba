/**
 * One input through what `vmstate analyze` does, in process: the walk with the device catalog,
 * then every view (json, tree, the script's format), and for inputs that decode, the encoder.
 */
import type { AnalysisCatalog } from '../../src/analyze/analysis-catalog';
import { analysisCatalog } from '../../src/cli/catalog-wiring';
import { analysisJson } from '../../src/analyze/json-format';
import { qemuDescJson, qemuStateJson } from '../../src/analyze/qemu-format';
import { analysisTree } from '../../src/analyze/tree-format';
import { VMStateError } from '../../src/errors';
import { readStreamContents } from '../../src/stream/collect';
import { StreamEncoder } from '../../src/stream/encoder';
import { MemorySink } from '../../src/stream/sink';
import { bytesSource } from '../../src/stream/source';
import { walkStream } from '../../src/stream/walk';

/** How one input ended. `typed` is the good failure: a VMStateError with an offset inside the input. */
export type Outcome =
  { kind: 'ok' } | { kind: 'typed'; code: string } | { kind: 'crash'; message: string };

let catalog: AnalysisCatalog | undefined;

export async function runOne(bytes: Uint8Array, views = true): Promise<Outcome> {
  catalog ??= analysisCatalog();
  try {
    const contents = await readStreamContents(bytesSource(bytes), {
      resolvers: catalog.resolvers(),
    });
    if (views) {
      analysisJson(contents, 'fuzz.mig', catalog.views);
      analysisTree(contents, 'fuzz.mig', { views: catalog.views });
      qemuStateJson(contents);
      if (contents.vmdesc) qemuDescJson(contents);
      const sink = new MemorySink();
      await walkStream(bytesSource(bytes), new StreamEncoder(sink), {
        resolvers: catalog.resolvers(),
      });
    }
    return { kind: 'ok' };
  } catch (e) {
    if (
      e instanceof VMStateError &&
      Number.isSafeInteger(e.offset) &&
      e.offset >= 0 &&
      e.offset <= bytes.length + 8
    )
      return { kind: 'typed', code: e.code };
    const message =
      e instanceof VMStateError
        ? `VMStateError with offset ${e.offset} outside the input (${bytes.length} bytes): ${e.message}`
        : e instanceof Error
          ? `${e.name}: ${e.message}`
          : String(e);
    return { kind: 'crash', message: message.split('\n')[0] };
  }
}
