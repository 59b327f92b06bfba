/**
 * One input through what `vmstate analyze` does, in process: the walk with the device catalog
 * (for the machine type the stream's head names, as the CLI picks it), then every view (json,
 * tree, the script's format), and for inputs that decode, the encoder.
 */
import type { AnalysisCatalog } from '../../src/analyze/analysis-catalog';
import { peekStreamHead } from '../../src/analyze/catalog-vmdesc';
import { analysisCatalog } from '../../src/cli/catalog-wiring';
import { analysisJson } from '../../src/analyze/json-format';
import { qemuDescJson, qemuStateJson } from '../../src/analyze/qemu-format';
import { analysisTree } from '../../src/analyze/tree-format';
import { VMStateError } from '../../src/errors';
import { readStreamContents } from '../../src/stream/collect';
import type { CodecResolver } from '../../src/stream/section';
import { StreamEncoder } from '../../src/stream/encoder';
import { MemorySink } from '../../src/stream/sink';
import { bytesSource } from '../../src/stream/source';
import { walkStream } from '../../src/stream/walk';

/** How one input ended. `typed` is the good failure: a VMStateError with an offset inside the input. */
export type Outcome =
  | { kind: 'ok' }
  | { kind: 'typed'; code: string; offset: number; message: string }
  | { kind: 'crash'; message: string };

let catalog: AnalysisCatalog | undefined;
export const fuzzCatalog = (): AnalysisCatalog => (catalog ??= analysisCatalog());

/** The catalog's resolvers as `vmstate analyze` makes them for this input (fresh: a resolver may learn from a walk). */
export async function resolversFor(bytes: Uint8Array): Promise<{
  machineType: string | undefined;
  resolvers: CodecResolver[];
}> {
  const head = await peekStreamHead(bytesSource(bytes));
  return { machineType: head.machineType, resolvers: fuzzCatalog().resolvers(head) };
}

export async function runOne(bytes: Uint8Array, views = true): Promise<Outcome> {
  const c = fuzzCatalog();
  try {
    const { resolvers } = await resolversFor(bytes);
    const contents = await readStreamContents(bytesSource(bytes), { resolvers });
    if (views) {
      analysisJson(contents, 'fuzz.mig', c.views);
      analysisTree(contents, 'fuzz.mig', { views: c.views });
      qemuStateJson(contents);
      if (contents.vmdesc) qemuDescJson(contents);
      const sink = new MemorySink();
      await walkStream(bytesSource(bytes), new StreamEncoder(sink), {
        resolvers: (await resolversFor(bytes)).resolvers,
      });
    }
    return { kind: 'ok' };
  } catch (e) {
    return classify(e, bytes.length);
  }
}

/** A thrown value as an outcome: a typed error must carry an offset inside the input. */
export function classify(e: unknown, length: number): Outcome {
  if (
    e instanceof VMStateError &&
    Number.isSafeInteger(e.offset) &&
    e.offset >= 0 &&
    e.offset <= length + 8
  )
    return { kind: 'typed', code: e.code, offset: e.offset, message: e.message };
  const message =
    e instanceof VMStateError
      ? `VMStateError with offset ${e.offset} outside the input (${length} bytes): ${e.message}`
      : e instanceof Error
        ? `${e.name}: ${e.message}`
        : String(e);
  return { kind: 'crash', message: message.split('\n')[0] };
}
