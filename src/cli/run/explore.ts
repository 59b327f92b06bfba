import { UsageError } from '../../errors';
import { catalogResolvers } from '../../analyze/catalog-hook';
import { filterSections } from '../../analyze/section-filter';
import { readExploreModel } from '../../explore/model';
import { renderExplorePage } from '../../explore/page';
import { parseServeAddress, startExploreServer } from '../../explore/server';
import { loadVmdescFile } from './analyze';
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
export async function runExplore(file: string, o: ExploreOptions): Promise<number> {
  if (o.output === undefined && o.serve === undefined)
    throw new UsageError(
      'explore: give -o PAGE.html (or -o - for stdout) or --serve 127.0.0.1:PORT',
    );
  if (o.output !== undefined && o.serve !== undefined)
    throw new UsageError('explore: give -o or --serve, not both');
  const target = o.serve !== undefined ? parseServeAddress(o.serve) : undefined;
  if (target && file === '-')
    throw new UsageError('explore --serve reads RAM pages back from the file: stdin will not do');
  const vmdesc = await loadVmdescFile(o.vmdesc);
  const source = await openInput(file);
  const progress = progressReporter(o.progress === false ? undefined : source.size);
  let model;
  try {
    model = await readExploreModel(source, {
      resolvers: catalogResolvers(),
      onProgress: progress.onProgress,
      vmdesc,
      keepPageLocations: target !== undefined,
    });
  } finally {
    progress.stop();
    await source.close();
  }
  model.contents = filterSections(model.contents, o.section ?? []);
  const page = renderExplorePage(model, { file, serve: target !== undefined });
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
