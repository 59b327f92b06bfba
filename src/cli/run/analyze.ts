import { BadInputFileError, UsageError, VMStateError } from '../../errors';
import { reportInternal } from '../exit';
import {
  describeNotes as describeNotesOf,
  peekStreamHead,
  sectionLack,
} from '../../analyze/catalog-vmdesc';
import { readStreamContents } from '../../stream/collect';
import type { Vmdesc } from '../../stream/vmdesc';
import type { WalkOptions } from '../../stream/walk';
import {
  NO_CATALOG,
  type AnalysisCatalog,
  type CatalogOptions,
} from '../../analyze/analysis-catalog';
import type { CatalogDescription } from '../../analyze/catalog-vmdesc';
import type { StreamContents } from '../../stream/collect';
import type { CodecResolver } from '../../stream/section';
import { filterSections } from '../../analyze/section-filter';
import { openInput, progressReporter, readInputFile } from './input';
import { writeOutput } from './output';

export interface AnalyzeOptions {
  format?: string;
  dump?: string;
  extract?: string;
  checkCatalog?: boolean;
  /** A VM description to decode by, for streams that carry none (suppress-vmdesc, old machines). */
  vmdesc?: string;
  /** The real release that wrote the stream: picks its device catalog (streams without a vmdesc). */
  release?: string;
  /** Keep bytes after EOF that are not a VM description (default: refuse the stream). */
  keepTrailing?: boolean;
  /** --extract: replace DIR even when it is not an earlier extract. */
  force?: boolean;
  /** `--section`: glob patterns of the sections to show (all when empty). */
  section?: string[];
  /** `--raw`: the tree prints nested-state pages as bytes too. */
  raw?: boolean;
  /** `-o`: where the output goes ('-' or none: stdout). */
  output?: string;
  /** `--no-progress` sets it false. */
  progress?: boolean;
}

/** --release must name a release the catalog has. */
function checkRelease(catalog: AnalysisCatalog, release: string | undefined): void {
  if (release === undefined) return;
  const known = catalog.releases?.() ?? [];
  if (!known.includes(release))
    throw new UsageError(
      `--release: no device catalog for '${release}' (real releases: ${known.join(', ')})`,
    );
}

/**
 * A stream that carries no VM description, decoded by the catalog as its own description would
 * have decoded it: a first walk (per candidate release) decodes the device sections with the
 * catalog, which gives the description QEMU would have written; a second walk decodes by it.
 * Undefined when the input cannot be read twice (stdin) or no catalog is wired.
 */
async function decodeByCatalog(
  catalog: AnalysisCatalog,
  file: string,
  first: StreamContents,
  opts: CatalogOptions,
  onProgress?: (offset: number) => void,
  keepTrailing?: boolean,
): Promise<{ contents: StreamContents; description: CatalogDescription } | undefined> {
  const o = {
    ...opts,
    machineType: first.configuration?.machineType,
    withoutConfiguration: !first.configuration,
  };
  const description = await describeByCatalogOf(catalog, file, o, onProgress, keepTrailing);
  if (!description) return undefined;
  const contents = await walkFile(file, {
    resolvers: catalog.resolvers(o),
    vmdesc: description.vmdesc,
    onProgress,
    keepTrailing,
  });
  // Decoded by the catalog's description: say so where a format shows which codec read a section.
  const described = new Set(
    description.vmdesc.devices.map((d) => `${d.instance_id}\u0000${d.name}`),
  );
  // And where it lacks the device: every format names it (and shows the section's bytes).
  const lacking = new Map(description.lacking.map((l) => [l.offset, l]));
  for (const e of contents.entries) {
    if (e.type !== 'section') continue;
    if (described.has(`${e.section.instanceId}\u0000${e.section.idstr}`))
      e.section.decodedBy = 'catalog';
    const l = lacking.get(e.section.offset);
    if (!l) continue;
    e.section.lacks = sectionLack(description, l);
    e.section.decodedBy = 'opaque'; // whatever a codec read, the catalog could not describe it
  }
  return { contents, description };
}

async function walkFile(
  file: string,
  opts: {
    resolvers: CodecResolver[];
    vmdesc?: Vmdesc;
    onProgress?: (offset: number) => void;
    keepTrailing?: boolean;
  },
): Promise<StreamContents> {
  const again = await openInput(file);
  try {
    return await readStreamContents(again, opts);
  } finally {
    await again.close();
  }
}

/**
 * The VM description the catalog gives a file that carries none (see decodeByCatalog), or
 * undefined when it cannot (stdin, no catalog, no release's catalog applies).
 */
export async function describeByCatalogOf(
  catalog: AnalysisCatalog,
  file: string,
  opts: CatalogOptions,
  onProgress?: (offset: number) => void,
  keepTrailing?: boolean,
): Promise<CatalogDescription | undefined> {
  if (!catalog.describe || file === '-') return undefined;
  return catalog.describe(
    (resolvers) => walkFile(file, { resolvers, onProgress, keepTrailing }),
    opts,
  );
}

/** The catalog's assumptions and the devices it lacks, on stderr (every format). */
export function writeNotes(file: string, d: CatalogDescription): void {
  for (const line of describeNotesOf(d)) process.stderr.write(`vmstate: ${file}: ${line}\n`);
}

/** Reads a vmdesc JSON file (e.g. the desc.json of --extract, or `--format qemu --dump desc` output). */
export async function loadVmdescFile(
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
  checkRelease(catalog, o.release);
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
  const progress = progressReporter(o.progress === false ? undefined : source.size);
  const catalogOpts: CatalogOptions = { release: o.release, ...(await peekStreamHead(source)) };
  const opts: WalkOptions = {
    resolvers: catalog.resolvers(catalogOpts),
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
    let contents = filterSections(await readStreamContents(source, opts), o.section ?? []);
    if (check) {
      progress.stop();
      return await check(contents, file, process.stdout, catalogOpts);
    }
    let description: CatalogDescription | undefined;
    if (!contents.vmdesc && !vmdesc) {
      const decoded = await decodeByCatalog(
        catalog,
        file,
        contents,
        catalogOpts,
        progress.onProgress,
        o.keepTrailing,
      );
      if (decoded) {
        description = decoded.description;
        contents = filterSections(decoded.contents, o.section ?? []);
      }
    }
    progress.stop();
    if (description) writeNotes(file, description);
    let text: string | Uint8Array;
    const descJson = async () => {
      const q = await import('../../analyze/qemu-format');
      if (!description) return q.qemuDescJson(contents);
      const { pythonJson } = await import('../../analyze/python-json');
      return pythonJson(q.qemuDescValue(description.json, 0)) + '\n';
    };
    if (format === 'qemu') {
      const q = await import('../../analyze/qemu-format');
      text = dump === 'desc' ? await descJson() : q.qemuStateBytes(contents);
    } else if (format === 'json') {
      if (dump === 'desc') text = await descJson();
      else
        text = (await import('../../analyze/json-format')).analysisJsonBytes(
          contents,
          file,
          catalog.views,
        );
    } else
      text = (await import('../../analyze/tree-format')).analysisTreeBytes(contents, file, {
        raw: o.raw,
        views: catalog.views,
      });
    await writeOutput(o.output, text);
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
  /** The real release that wrote the stream (`--release`): picks its device catalog. */
  release?: string;
  /** Write the VM description QEMU would have written (`reencode --add-vmdesc`). */
  addVmdesc?: boolean;
  /** Sync the output to the disk before it takes its name (`--fsync`: survives a power loss). */
  fsync?: boolean;
}

export async function runTranscode(
  file: string,
  output: string,
  o: TranscodeOptions = {},
): Promise<number> {
  const { sets = [], vmdescFile, catalog = NO_CATALOG, keepTrailing } = o;
  checkRelease(catalog, o.release);
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
    const catalogOpts: CatalogOptions = { release: o.release, ...(await peekStreamHead(source)) };
    const walk = {
      assignments,
      vmdesc,
      keepTrailing,
      resolvers: catalog.resolvers(catalogOpts),
      onProgress: progress.onProgress,
    };
    if (o.addVmdesc) {
      const { addVmdescToFile } = await import('./add-vmdesc');
      await addVmdescToFile(
        file,
        source,
        target,
        walk,
        catalog,
        catalogOpts,
        (d: CatalogDescription) => writeNotes(file, d),
        { fsync: o.fsync },
      );
    } else
      await transcodeToFile(source, target, {
        ...walk,
        fsync: o.fsync,
        inputFile: file !== '-' && fs.statSync(file).isFile() ? file : undefined,
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

/**
 * `vmstate analyze ... | head` closes the pipe early: that is the reader's choice, not an error.
 * The mark is kept on the stream itself, not in this module: a process that loads the module
 * more than once (jest gives each test file its own) still adds one listener.
 */
const STDOUT_GUARDED = Symbol.for('vmstate-lab: stdout EPIPE guard');
function quietOnClosedStdout(): void {
  const stdout = process.stdout as typeof process.stdout & { [STDOUT_GUARDED]?: true };
  if (stdout[STDOUT_GUARDED]) return;
  stdout[STDOUT_GUARDED] = true;
  stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    process.exitCode = reportInternal(e);
  });
}
