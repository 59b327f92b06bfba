import { UsageError } from '../../errors';
import { NO_CATALOG, type AnalysisCatalog } from '../../analyze/analysis-catalog';
import { DiffInputError, diffStreams, type RamMode } from '../../diff/diff';
import { diffJson, diffTree, summaryLine } from '../../diff/format';
import { openInput } from './input';
import { writeOutput } from './output';

export interface DiffCliOptions {
  format?: string;
  section?: string[];
  ram?: string;
  html?: string;
}

const FORMATS = ['tree', 'json'];
const RAM_MODES: RamMode[] = ['none', 'summary', 'pages'];

/** `vmstate diff A B`: 0 same, 1 different; `onFailed` learns which input was malformed. */
export async function runDiff(
  fileA: string,
  fileB: string,
  o: DiffCliOptions,
  onFailed: (file: string) => void,
  catalog: AnalysisCatalog = NO_CATALOG,
): Promise<number> {
  const format = o.format ?? 'tree';
  const ram = (o.ram ?? 'summary') as RamMode;
  if (!FORMATS.includes(format))
    throw new UsageError(`--format must be tree or json (got '${format}')`);
  if (!RAM_MODES.includes(ram))
    throw new UsageError(`--ram must be none, summary or pages (got '${ram}')`);
  if (fileA === '-' && fileB === '-') throw new UsageError('only one of A and B can be stdin');
  const a = await openInput(fileA);
  let b;
  try {
    b = await openInput(fileB);
  } catch (e) {
    await a.close();
    throw e;
  }
  try {
    let result;
    try {
      result = await diffStreams(a, b, {
        names: [fileA, fileB],
        sections: o.section,
        ram,
        walk: () => ({ resolvers: catalog.resolvers() }),
      });
    } catch (e) {
      if (e instanceof DiffInputError) {
        onFailed(e.side === 'a' ? fileA : fileB);
        throw e.error;
      }
      throw e;
    }
    if (o.html !== undefined) {
      const { renderDiffHtml } = await import('../../diff/html');
      const page = renderDiffHtml(result, {
        title: `vmstate diff ${fileA} ${fileB}`,
        command: `vmstate diff ${process.argv.slice(3).join(' ')}`.trim(),
      });
      // `--html -`: the page is the output (as compat --html -), in place of the text.
      await writeOutput(o.html, page, '--html');
      if (o.html === '-') return result.summary.identical ? 0 : 1;
    }
    process.stdout.write(
      format === 'json' ? diffJson(result) : o.html ? summaryLine(result) + '\n' : diffTree(result),
    );
    return result.summary.identical ? 0 : 1;
  } finally {
    await a.close();
    await b.close();
  }
}
