import { BadInputFileError, UsageError, VMStateError } from '../../errors';
import { reportInternal } from '../exit';
import { readStreamContents } from '../../stream/collect';
import type { WalkOptions } from '../../stream/walk';
import { NO_CATALOG, type AnalysisCatalog } from '../../analyze/analysis-catalog';
import { openInput, progressReporter, readInputFile } from './input';

export interface AnalyzeOptions {
  format?: string;
  dump?: string;
  extract?: string;
  checkCatalog?: boolean;
  /** A VM description to decode by, for streams that carry none (suppress-vmdesc, old machines). */
  vmdesc?: string;
  /** Keep bytes after EOF that are not a VM description (default: refuse the stream). */
  keepTrailing?: boolean;
  /** --extract: replace DIR even when it is not an earlier extract. */
  force?: boolean;
}

/** Reads a vmdesc JSON file (e.g. the desc.json of --extract, or `--format qemu --dump desc` output). */
async function loadVmdescFile(
  file: string | undefined,
): Promise<import('../../stream/vmdesc').Vmdesc | undefined> {
  if (file === undefined) return undefined;
  const { parseVmdesc } = await import('../../stream/vmdesc');
  const bytes = readInputFile(file, '--vmdesc', null);
  try {
    return parseVmdesc(bytes, 0);
  } catch (e) {
    // Its content is the input's fault: exit 3, like a stream's own description.
    const at =
      e instanceof VMStateError ? `offset 0x${e.offset.toString(16)}: ${e.what}` : String(e);
    throw new BadInputFileError(file, `--vmdesc: ${at}`);
  }
}

const FORMATS = ['json', 'tree', 'qemu'];
const DUMPS = ['state', 'desc'];

/** `vmstate analyze`: returns the exit code. */
export async function runAnalyze(
  file: string,
  o: AnalyzeOptions,
  catalog: AnalysisCatalog = NO_CATALOG,
): Promise<number> {
  const format = o.format ?? 'json';
  const dump = o.dump ?? 'state';
  if (!FORMATS.includes(format))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got '${format}')`);
  if (!DUMPS.includes(dump)) throw new UsageError(`--dump must be state or desc (got '${dump}')`);
  if (dump === 'desc' && format === 'tree')
    throw new UsageError('--dump desc prints JSON: use --format qemu or --format json');
  const check = o.checkCatalog ? catalog.check?.bind(catalog) : undefined;
  if (o.checkCatalog && !check)
    throw new UsageError(
      '--check-catalog: no device catalog was given, so there is nothing to check against',
    );

  if (o.force && o.extract === undefined) throw new UsageError('--force goes with --extract DIR');
  quietOnClosedStdout();
  if (o.extract !== undefined) {
    const { checkOutputPath } = await import('../../stream/atomic-file');
    checkOutputPath(o.extract, 'dir');
  }
  const vmdesc = await loadVmdescFile(o.vmdesc);
  const source = await openInput(file);
  const progress = progressReporter(source.size);
  const opts: WalkOptions = {
    resolvers: catalog.resolvers(),
    onProgress: progress.onProgress,
    vmdesc,
    keepTrailing: o.keepTrailing,
  };
  try {
    if (o.extract !== undefined) {
      const { extractStream } = await import('../../analyze/extract');
      const r = await extractStream(source, o.extract, { ...opts, force: o.force });
      progress.stop();
      process.stdout.write(r.files.map((f) => f + '\n').join(''));
      if (!r.contents.vmdesc)
        process.stderr.write(`vmstate: ${file}: no VM description after EOF, so no desc.json\n`);
      return 0;
    }
    const contents = await readStreamContents(source, opts);
    progress.stop();
    if (check) return await check(contents, file, process.stdout);
    let text: string | Uint8Array;
    if (format === 'qemu') {
      const q = await import('../../analyze/qemu-format');
      text = dump === 'desc' ? q.qemuDescJson(contents) : q.qemuStateBytes(contents);
    } else if (format === 'json') {
      if (dump === 'desc') {
        const q = await import('../../analyze/qemu-format');
        text = q.qemuDescJson(contents);
      } else
        text = (await import('../../analyze/json-format')).analysisJson(
          contents,
          file,
          catalog.views,
        );
    } else
      text = (await import('../../analyze/tree-format')).analysisTree(
        contents,
        file,
        catalog.views,
      );
    process.stdout.write(text);
    return 0;
  } finally {
    progress.stop();
    await source.close();
  }
}

/** `vmstate reencode` and `vmstate edit`: decode then write again (with field assignments for edit). */
export interface TranscodeOptions {
  /** Field assignments (`--set`), none for reencode. */
  sets?: string[];
  /** A VM description JSON file to decode by (`--vmdesc`). */
  vmdescFile?: string;
  catalog?: AnalysisCatalog;
  /** Keep bytes after EOF that are not a whole VM description (`--keep-trailing`). */
  keepTrailing?: boolean;
}

export async function runTranscode(
  file: string,
  output: string,
  o: TranscodeOptions = {},
): Promise<number> {
  const { sets = [], vmdescFile, catalog = NO_CATALOG, keepTrailing } = o;
  const { EditError, parseAssignment } = await import('../../stream/edit');
  const { transcodeToFile } = await import('../../stream/transcode');
  const toUsage = (e: unknown) => (e instanceof EditError ? new UsageError(e.message) : e);
  let assignments;
  try {
    assignments = sets.map(parseAssignment);
  } catch (e) {
    throw toUsage(e);
  }
  const vmdesc = await loadVmdescFile(vmdescFile);
  const source = await openInput(file);
  const progress = progressReporter(source.size);
  try {
    await transcodeToFile(source, output, {
      assignments,
      vmdesc,
      keepTrailing,
      resolvers: catalog.resolvers(),
      onProgress: progress.onProgress,
    });
    return 0;
  } catch (e) {
    throw toUsage(e);
  } finally {
    progress.stop();
    await source.close();
  }
}

/** `vmstate analyze ... | head` closes the pipe early: that is the reader's choice, not an error. */
let stdoutGuarded = false;
function quietOnClosedStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    process.exitCode = reportInternal(e);
  });
}
