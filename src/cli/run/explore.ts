import { UsageError } from '../../errors';
import { NO_CATALOG, type AnalysisCatalog } from '../../analyze/analysis-catalog';
import { peekStreamHead } from '../../analyze/catalog-vmdesc';
import { filterSections } from '../../analyze/section-filter';
import { readExploreModel } from '../../explore/model';
import { renderExplorePage } from '../../explore/page';
import { parseServeAddress, startExploreServer } from '../../explore/server';
import { describeByCatalogOf, loadVmdescFile, writeNotes } from './analyze';
import { openInput, progressReporter } from './input';
import { writeOutput } from './output';

export interface ExploreOptions {
  output?: string;
  serve?: string;
  section?: string[];
  vmdesc?: string;
  progress?: boolean;
}

/** `vmstate explore`: writes the page, or serves it until interrupted; returns the exit code. */
export async function runExplore(
  file: string,
  o: ExploreOptions,
  catalog: AnalysisCatalog = NO_CATALOG,
): Promise<number> {
  if (o.output === undefined && o.serve === undefined)
    throw new UsageError(
      'explore: give -o PAGE.html (or -o - for stdout) or --serve 127.0.0.1:PORT',
    );
  if (o.output !== undefined && o.serve !== undefined)
    throw new UsageError('explore: give -o or --serve, not both');
  const target = o.serve !== undefined ? parseServeAddress(o.serve) : undefined;
  if (target && file === '-')
    throw new UsageError('explore --serve reads RAM pages back from the file: stdin will not do');
  let vmdesc = await loadVmdescFile(o.vmdesc);
  const source = await openInput(file);
  const progress = progressReporter(o.progress === false ? undefined : source.size);
  let model;
  let described: Set<string> | undefined;
  try {
    const opts = await peekStreamHead(source);
    // A stream without a description explores through the one the catalog gives it.
    if (!vmdesc && file !== '-') {
      const { locateVmdescFromEnd } = await import('../../stream/vmdesc');
      if ((await locateVmdescFromEnd(source))?.kind !== 'found') {
        const d = await describeByCatalogOf(catalog, file, opts);
        if (d) {
          writeNotes(file, d);
          vmdesc = d.vmdesc;
          described = new Set(d.vmdesc.devices.map((x) => `${x.instance_id}\u0000${x.name}`));
        }
      }
    }
    model = await readExploreModel(source, {
      resolvers: catalog.resolvers(opts),
      onProgress: progress.onProgress,
      vmdesc,
      keepPageLocations: target !== undefined,
    });
  } finally {
    progress.stop();
    await source.close();
  }
  // Decoded by the catalog's description: say so, as analyze does.
  if (described)
    for (const e of model.contents.entries)
      if (e.type === 'section' && described.has(`${e.section.instanceId}\u0000${e.section.idstr}`))
        e.section.decodedBy = 'catalog';
  model.contents = filterSections(model.contents, o.section ?? []);
  const page = renderExplorePage(model, {
    file,
    serve: target !== undefined,
    views: catalog.views,
    pageLayouts: catalog.pageLayouts,
  });
  if (!target) {
    await writeOutput(o.output, page, 'page');
    return 0;
  }
  const server = await startExploreServer(target, {
    page,
    file,
    pageSize: model.contents.ram.pageSize,
    blockCount: model.ram.blockNames().length,
    locate: model.ram.locator(),
  });
  process.stderr.write(`vmstate: explore: ${file} at ${server.url} (Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
