/**
 * `vmstate reencode --add-vmdesc`: a stream without a VM description, written again with the
 * description QEMU would have appended (0x06, be32 length, JSON), which the device catalog gives
 * it (src/analyze/catalog-vmdesc.ts). Refused when the catalog lacks a device of the stream: a
 * partial description would misdescribe it.
 */
import type { AnalysisCatalog, CatalogOptions } from '../../analyze/analysis-catalog';
import { vmdescRecord, type CatalogDescription } from '../../analyze/catalog-vmdesc';
import { RefusedError, UsageError } from '../../errors';
import { writeFileAtomically, type AtomicWriteOptions } from '../../stream/atomic-file';
import { readStreamContents } from '../../stream/collect';
import { StreamEncoder } from '../../stream/encoder';
import { FdSink } from '../../stream/sink';
import type { ChunkSource } from '../../stream/source';
import { walkStream, type WalkOptions } from '../../stream/walk';
import { openInput } from './input';

export async function addVmdescToFile(
  file: string,
  source: ChunkSource,
  output: string,
  walk: WalkOptions,
  catalog: AnalysisCatalog,
  opts: CatalogOptions,
  onNotes: (d: CatalogDescription) => void,
  atomic: AtomicWriteOptions = {},
): Promise<void> {
  const describe = catalog.describe?.bind(catalog);
  if (!describe) throw new UsageError('--add-vmdesc: no device catalog is wired into this build');
  if (file === '-')
    throw new UsageError('--add-vmdesc reads the stream more than once: give a file, not stdin');
  const first = await readStreamContents(source, walk);
  if (first.vmdesc || first.walk.vmdescFrom !== 'none')
    throw new UsageError(`--add-vmdesc: ${file} already carries a VM description`);
  if (first.trailing)
    throw new RefusedError(
      `--add-vmdesc: ${file} has ${first.trailing.data.length} bytes after its EOF that are not a VM description`,
    );
  const walkWith = async <T>(fn: (s: ChunkSource) => Promise<T>): Promise<T> => {
    const again = await openInput(file);
    try {
      return await fn(again);
    } finally {
      await again.close();
    }
  };
  const description = await describe(
    (resolvers) => walkWith((s) => readStreamContents(s, { resolvers })),
    {
      ...opts,
      machineType: first.configuration?.machineType ?? opts.machineType,
      withoutConfiguration: !first.configuration,
    },
  );
  if (!description) throw new UsageError('--add-vmdesc: no release catalog applies to this stream');
  onNotes(description);
  if (description.lacking.length)
    throw new RefusedError(
      `--add-vmdesc: the ${description.release} catalog cannot describe ${description.lacking.length} section(s): ${description.lacking.map((l) => `${l.section} (${l.reason})`).join('; ')}`,
    );
  await writeFileAtomically(
    output,
    async (fd) => {
      const sink = new FdSink(fd);
      await walkWith((s) =>
        walkStream(s, new StreamEncoder(sink), { ...walk, vmdesc: description.vmdesc }),
      );
      sink.write(vmdescRecord(description.json));
      sink.flush();
    },
    atomic,
  );
}
