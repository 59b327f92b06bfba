import { UsageError } from '../../errors';
import { readStreamContents } from '../../stream/collect';
import type { WalkOptions } from '../../stream/walk';
import { catalogCheck, catalogResolvers } from '../../analyze/catalog-hook';
import { filterSections } from '../../analyze/section-filter';
import { openInput, progressReporter } from './input';
import { writeOutput } from './output';

export interface AnalyzeOptions {
  format?: string;
  dump?: string;
  extract?: string;
  checkCatalog?: boolean;
  /** A VM description to decode by, for streams that carry none (suppress-vmdesc, old machines). */
  vmdesc?: string;
  /** `--section`: glob patterns of the sections to show (all when empty). */
  section?: string[];
  /** `--raw`: the tree prints nested-state pages as bytes too. */
  raw?: boolean;
  /** `-o`: where the output goes ('-' or none: stdout). */
  output?: string;
  /** `--no-progress` sets it false. */
  progress?: boolean;
}

/** Reads a vmdesc JSON file (e.g. the desc.json of --extract, or `--format qemu --dump desc` output). */
export async function loadVmdescFile(
  file: string | undefined,
): Promise<import('../../stream/vmdesc').Vmdesc | undefined> {
  if (file === undefined) return undefined;
  const fs = await import('fs');
  const { parseVmdesc } = await import('../../stream/vmdesc');
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new UsageError(
      `cannot read --vmdesc ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    return parseVmdesc(bytes, 0);
  } catch (e) {
    throw new UsageError(`--vmdesc ${file}: ${(e as Error).message}`);
  }
}

const FORMATS = ['json', 'tree', 'qemu'];
const DUMPS = ['state', 'desc'];

/** `vmstate analyze`: returns the exit code. */
export async function runAnalyze(file: string, o: AnalyzeOptions): Promise<number> {
  const format = o.format ?? 'json';
  const dump = o.dump ?? 'state';
  if (!FORMATS.includes(format))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got '${format}')`);
  if (!DUMPS.includes(dump)) throw new UsageError(`--dump must be state or desc (got '${dump}')`);
  if (dump === 'desc' && format === 'tree')
    throw new UsageError('--dump desc prints JSON: use --format qemu or --format json');
  const check = o.checkCatalog ? catalogCheck() : undefined;
  if (o.checkCatalog && !check)
    throw new UsageError(
      '--check-catalog: no device catalog is wired into this build yet, so there is nothing to check against',
    );

  quietOnClosedStdout();
  const vmdesc = await loadVmdescFile(o.vmdesc);
  const source = await openInput(file);
  const progress = progressReporter(o.progress === false ? undefined : source.size);
  const opts: WalkOptions = {
    resolvers: catalogResolvers(),
    onProgress: progress.onProgress,
    vmdesc,
  };
  try {
    if (o.extract !== undefined) {
      const { extractStream } = await import('../../analyze/extract');
      const r = await extractStream(source, o.extract, opts);
      progress.stop();
      process.stdout.write(r.files.map((f) => f + '\n').join(''));
      if (!r.contents.vmdesc)
        process.stderr.write(`vmstate: ${file}: no VM description after EOF, so no desc.json\n`);
      return 0;
    }
    const contents = filterSections(await readStreamContents(source, opts), o.section ?? []);
    progress.stop();
    if (check) return await check(contents, file, process.stdout);
    let text: string | Uint8Array;
    if (format === 'qemu') {
      const q = await import('../../analyze/qemu-format');
      text = dump === 'desc' ? q.qemuDescJson(contents) : q.qemuStateJson(contents);
    } else if (format === 'json') {
      if (dump === 'desc') {
        const q = await import('../../analyze/qemu-format');
        text = q.qemuDescJson(contents);
      } else text = (await import('../../analyze/json-format')).analysisJsonBytes(contents, file);
    } else
      text = (await import('../../analyze/tree-format')).analysisTreeBytes(contents, file, {
        raw: o.raw,
      });
    await writeOutput(o.output, text);
    return 0;
  } finally {
    progress.stop();
    await source.close();
  }
}

/** `vmstate reencode` and `vmstate edit`: decode then write again (with field assignments for edit). */
export async function runTranscode(
  file: string,
  output: string,
  sets: string[],
  vmdescFile?: string,
): Promise<number> {
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
  // `-o -`: the stream is written whole to a temporary file first, then copied to stdout, so a
  // damaged input never leaves half a stream on stdout.
  const toStdout = output === '-';
  const fs = await import('fs');
  const tmpDir = toStdout
    ? fs.mkdtempSync((await import('path')).join((await import('os')).tmpdir(), 'vmstate-out-'))
    : undefined;
  const target = tmpDir ? `${tmpDir}/stream.mig` : output;
  try {
    await transcodeToFile(source, target, {
      assignments,
      vmdesc,
      resolvers: catalogResolvers(),
      onProgress: progress.onProgress,
    });
    if (tmpDir) copyToStdout(fs, target);
    return 0;
  } catch (e) {
    throw toUsage(e);
  } finally {
    progress.stop();
    await source.close();
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

function copyToStdout(fs: typeof import('fs'), file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(1 << 20);
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      process.stdout.write(chunk.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** `vmstate analyze ... | head` closes the pipe early: that is the reader's choice, not an error. */
let stdoutGuarded = false;
function quietOnClosedStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}
