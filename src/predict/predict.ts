/**
 * `vmstate predict`: what a destination QEMU does with a stream, worked out the way its
 * `qemu_loadvm_state` works (migration/savevm.c, migration/vmstate.c), in the same order of
 * checks, stopping at the first failure as QEMU does:
 *
 *  1. the configuration section must be there and name the local machine type (strncmp over
 *     the received length);
 *  2. then, record by record: a command must be one the release knows; a section's idstr and
 *     instance must be registered ("Unknown savevm section or instance"), its version not above
 *     the handler's ("savevm: unsupported version"); its body is loaded by the destination's
 *     description (version checks, subsections, _EQUAL fields, validations, pre/post_load), and
 *     the footer must follow where the destination stopped reading.
 *
 * The bytes loaded are the source's own (the stream's section bodies), so a field the two sides
 * lay out differently shows where QEMU would see it: a missing footer, or a failed check.
 */
import { ByteReader } from '../bytes/reader';
import { loadFrom } from '../engine/load';
import {
  EqualMismatchError,
  TruncatedError,
  UnknownSubsectionError,
  VersionTooNewError,
  VersionTooOldError,
  VMStateError,
} from '../errors';
import { SectionType, type SectionKind } from '../stream/constants';
import type {
  CommandRecord,
  ConfigurationRecord,
  HeaderRecord,
  RamSectionHeader,
  StreamRecord,
  StreamVisitor,
} from '../stream/records';
import { walkStream } from '../stream/walk';
import type { DeviceSection } from '../stream/section';
import { bytesSource, type ChunkSource } from '../stream/source';
import type { LoadPlatform } from './platform';
import { qemuLines, type Errno } from './qemu-lines';

/**
 * 'unknown': the destination registers a section of the stream that the catalog has no
 * description of, so what it does with it cannot be said (never claimed ok).
 */
export type PredictedOutcome = 'ok' | 'refused' | 'lossy' | 'unknown';

export type RefusalReason =
  | 'configuration-missing'
  | 'machine-type-mismatch'
  | 'unknown-command'
  | 'unknown-section'
  | 'unsupported-section-version'
  | 'version-too-new'
  | 'version-too-old'
  | 'unknown-subsection'
  | 'equal-mismatch'
  | 'load-failed'
  | 'missing-section-footer'
  | 'mismatched-section-footer';

/** Why the destination refuses, in the parts QEMU's own message has. */
export interface PredictedRefusal {
  readonly reason: RefusalReason;
  /** The first line QEMU prints (without the program name). */
  readonly message: string;
  /** Every line QEMU prints for it, in order, ending with "load of migration failed: ...". */
  readonly lines: readonly string[];
  readonly errno: Errno;
  /** The section as the stream names it (idstr), 'configuration', or absent for a command. */
  readonly section?: string;
  readonly instance?: number;
  /** Where in the section: the path the loader reached ("cpu#0 > cpu/nested_state > ..."), when a field is to blame. */
  readonly field?: string;
  /** Absolute stream offset of the failing record or byte. */
  readonly offset: number;
  /** Values of the check, when it compares two (received vs local). */
  readonly received?: string | number;
  readonly local?: string | number;
}

/** State the source sent that the destination loaded but does not keep as sent. */
export interface PredictedLoss {
  readonly section: string;
  readonly what: string;
}

/** A section the destination registers but the catalog cannot load: prediction stops being exact there. */
export interface UndescribedSection {
  readonly section: string;
  readonly instance: number;
  readonly offset: number;
  /** Why, e.g. "the 10.0 catalog has no description of 'virtio-net'". */
  readonly why: string;
}

export interface Prediction {
  readonly outcome: PredictedOutcome;
  readonly release: string;
  readonly machineType: string;
  /** The machine type the stream's configuration names (absent when it has none). */
  readonly streamMachineType?: string;
  /**
   * Why the destination refuses; with outcome 'unknown', the refusal it would reach after the
   * undescribed sections if they all load.
   */
  readonly refusal?: PredictedRefusal;
  readonly losses: readonly PredictedLoss[];
  /** Sections the destination loaded before it stopped (all of them when it did not). */
  readonly sectionsLoaded: number;
  /** Sections the catalog cannot load (outcome 'unknown' when there is any), in stream order. */
  readonly undescribed?: readonly UndescribedSection[];
}

/**
 * Reads a whole stream (bytes or a chunk source) and predicts its load. A stream the walk cannot
 * read is malformed (the VMStateError is thrown), except where the walk stops at a section
 * footer: QEMU refuses there too, unless it refused earlier.
 */
export async function predictLoad(
  input: Uint8Array | ChunkSource,
  destination: LoadPlatform | ((streamMachineType: string | undefined) => LoadPlatform),
): Promise<Prediction> {
  const source = input instanceof Uint8Array ? bytesSource(input) : input;
  const seen = new PartialContents();
  const platform = () =>
    typeof destination === 'function' ? destination(seen.configuration?.machineType) : destination;
  try {
    await walkStream(source, seen);
  } catch (err) {
    const footer = err instanceof VMStateError ? footerFailure(err) : undefined;
    if (!footer || !seen.header) throw err;
    const before = predictContents(seen.contents(), platform());
    if (before.refusal) return before;
    const outcome = before.outcome === 'unknown' ? 'unknown' : 'refused';
    return { ...before, outcome, refusal: footer, losses: [] };
  }
  return predictContents(seen.contents(), platform());
}

/** What prediction needs of a walk, kept as records arrive (so a walk that stops keeps what it read). */
class PartialContents implements StreamVisitor {
  header?: HeaderRecord;
  configuration?: ConfigurationRecord;
  private readonly entries: PredictEntry[] = [];
  /** Prediction reads no page: the walk steps over them. */
  readonly ramPages = 'runs';
  record(rec: StreamRecord): void {
    if (rec.type === 'header') this.header = rec;
    else if (rec.type === 'configuration' && rec.depth === 0) this.configuration = rec;
    else if (rec.type === 'section') this.entries.push({ type: 'section', section: rec.section });
    else if (rec.type === 'ram-section' || rec.type === 'command') this.entries.push(rec);
  }
  contents(): PredictInput {
    return { header: this.header!, configuration: this.configuration, entries: this.entries };
  }
}

/** The walk's footer errors, as QEMU's check_section_footer reports them. */
export function footerFailure(err: VMStateError): PredictedRefusal | undefined {
  const missing = /^missing section footer for section \d+ \('(.*)'\)/.exec(err.what);
  const instance = Number(/#(\d+)/.exec(err.path)?.[1] ?? 0);
  if (missing)
    return fail('missing-section-footer', qemuLines.missingFooter(missing[1]), 'EINVAL', {
      section: missing[1],
      instance,
      offset: err.offset,
    });
  const mismatched =
    /^mismatched section id in footer for '(.*)': read 0x([0-9a-f]+), expected 0x([0-9a-f]+)/.exec(
      err.what,
    );
  if (mismatched) {
    const read = parseInt(mismatched[2], 16);
    const expected = parseInt(mismatched[3], 16);
    return fail(
      'mismatched-section-footer',
      qemuLines.mismatchedFooter(mismatched[1], read, expected),
      'EINVAL',
      { section: mismatched[1], instance, offset: err.offset, received: read, local: expected },
    );
  }
  return undefined;
}

/** The parts of a decoded stream prediction reads (a StreamContents has them all). */
export interface PredictInput {
  readonly header: HeaderRecord;
  readonly configuration?: ConfigurationRecord;
  readonly entries: readonly PredictEntry[];
}
type PredictEntry =
  | { readonly type: 'section'; readonly section: DeviceSection }
  | RamSectionHeader
  | {
      readonly type: 'ram-section';
      readonly kind: SectionKind;
      readonly idstr: string;
      readonly instanceId: number;
      readonly offset: number;
    }
  | CommandRecord
  | { readonly type: 'trailing' };

export function predictContents(contents: PredictInput, platform: LoadPlatform): Prediction {
  const streamMachineType = contents.configuration?.machineType;
  const base = { release: platform.release, machineType: platform.machineType, streamMachineType };
  let loaded = 0;
  const undescribed: UndescribedSection[] = [];
  const unknown = () => (undescribed.length ? { undescribed } : {});
  const refused = (refusal: PredictedRefusal): Prediction => ({
    ...base,
    outcome: undescribed.length ? 'unknown' : 'refused',
    refusal,
    losses: [],
    sectionsLoaded: loaded,
    ...unknown(),
  });
  /** A section without a handler: unknown to the destination, or only to the catalog. */
  const missing = (idstr: string, instance: number, offset: number) => {
    const why = platform.undescribed?.(idstr, instance);
    if (why === undefined) return unknownSection(idstr, instance, offset);
    undescribed.push({ section: idstr, instance, offset, why });
    return undefined;
  };

  const config = contents.configuration;
  if (!config)
    return refused(
      fail('configuration-missing', qemuLines.configurationMissing(), 'EINVAL', {
        section: 'configuration',
        offset: contents.header.offset + 8,
      }),
    );
  const received = config.machineType;
  if (platform.machineType.slice(0, received.length) !== received)
    return refused(
      fail(
        'machine-type-mismatch',
        qemuLines.machineType(received, platform.machineType),
        'EINVAL',
        {
          section: 'configuration',
          offset: config.offset,
          received,
          local: platform.machineType,
        },
      ),
    );

  const losses: PredictedLoss[] = [];
  for (const e of contents.entries) {
    if (e.type === 'trailing') continue;
    if (e.type === 'command') {
      if (e.cmd === 0 || e.cmd > platform.maxCommand)
        return refused(
          fail('unknown-command', qemuLines.unknownCommand(e.cmd, e.payload.length), 'EINVAL', {
            offset: e.offset,
          }),
        );
      continue;
    }
    if (e.type === 'ram-section') {
      // PART/END records of an iterative section name it by id only; its START was checked.
      if (e.kind !== 'start' && e.kind !== 'full') continue;
      if (!platform.iterative.includes(e.idstr) && !platform.section(e.idstr, e.instanceId)) {
        const r = missing(e.idstr, e.instanceId, e.offset);
        if (r) return refused(r);
        continue;
      }
      loaded++;
      continue;
    }
    const s = e.section;
    if (s.kind !== 'full' && s.kind !== 'start') continue;
    if (!platform.iterative.includes(s.idstr) && !platform.section(s.idstr, s.instanceId)) {
      const r = missing(s.idstr, s.instanceId, s.offset);
      if (r) return refused(r);
      continue;
    }
    const r = loadSection(s, platform, losses);
    if (r) return refused(r);
    loaded++;
  }
  return {
    ...base,
    outcome: undescribed.length ? 'unknown' : losses.length ? 'lossy' : 'ok',
    losses,
    sectionsLoaded: loaded,
    ...unknown(),
  };
}

function unknownSection(idstr: string, instance: number, offset: number): PredictedRefusal {
  return fail('unknown-section', qemuLines.unknownSection(idstr, instance), 'EINVAL', {
    section: idstr,
    instance,
    offset,
  });
}

/** One FULL/START device section as `qemu_loadvm_section_start_full` loads it; a refusal, or undefined when it loads. */
function loadSection(
  s: DeviceSection,
  platform: LoadPlatform,
  losses: PredictedLoss[],
): PredictedRefusal | undefined {
  if (platform.iterative.includes(s.idstr)) return undefined;
  const handler = platform.section(s.idstr, s.instanceId);
  if (!handler) return unknownSection(s.idstr, s.instanceId, s.offset);
  const where = { section: s.idstr, instance: s.instanceId };
  const local = handler.desc.version_id;
  if (s.versionId > local)
    return fail(
      'unsupported-section-version',
      qemuLines.unsupportedSectionVersion(s.idstr, s.versionId, local),
      'EINVAL',
      { ...where, offset: s.offset, received: s.versionId, local },
    );

  // The destination reads from the source's bytes: the body, then the footer QEMU checks next.
  const tail = s.footer ? footerBytes(s.footer.sectionId) : new Uint8Array(0);
  const bytes = new Uint8Array(s.body.length + tail.length);
  bytes.set(s.body, 0);
  bytes.set(tail, s.body.length);
  const r = new ByteReader(bytes, s.bodyOffset);
  // Bytes the destination skips unread (VMSTATE_UNUSED) are dropped: lost when the source sent
  // anything but the zeros an unused field carries.
  const dropped: PredictedLoss[] = [];
  try {
    loadFrom(r, handler.desc, s.versionId, {
      ctx: platform.ctx,
      path: `${s.idstr}#${s.instanceId}`,
      into: handler.receiverState?.(),
      onUnused: (b, path) => {
        if (b.some((x) => x !== 0))
          dropped.push({
            section: s.idstr,
            what: `${path}: ${b.length} byte(s) the source sent are skipped unread by the destination`,
          });
      },
    });
  } catch (err) {
    if (!(err instanceof VMStateError)) throw err;
    return bodyFailure(err, s, bytes.length);
  }
  if (r.pos !== s.body.length || !s.footer) {
    const footerAt = s.bodyOffset + r.pos;
    return fail('missing-section-footer', qemuLines.missingFooter(s.idstr), 'EINVAL', {
      ...where,
      offset: footerAt,
      field:
        r.pos < s.body.length
          ? `the destination reads ${r.pos} of the section's ${s.body.length} bytes`
          : undefined,
    });
  }
  if (s.footer.sectionId !== s.sectionId)
    return fail(
      'mismatched-section-footer',
      qemuLines.mismatchedFooter(s.idstr, s.footer.sectionId, s.sectionId),
      'EINVAL',
      { ...where, offset: s.footer.offset, received: s.footer.sectionId, local: s.sectionId },
    );
  losses.push(...dropped);
  return undefined;
}

const footerBytes = (id: number): Uint8Array =>
  new Uint8Array([SectionType.FOOTER, id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]);

/** A failure inside vmstate_load_state: its own line (when QEMU prints one), then the section's. */
function bodyFailure(err: VMStateError, s: DeviceSection, readable: number): PredictedRefusal {
  const where = { section: s.idstr, instance: s.instanceId, field: err.path, offset: err.offset };
  const trailer = (first: string | undefined, errno: Errno) =>
    [
      ...(first ? [first] : []),
      qemuLines.whileLoading(s.idstr, s.instanceId),
      qemuLines.loadFailed(errno),
    ] as const;
  if (err instanceof TruncatedError && err.offset - s.bodyOffset + err.needed > readable - 5) {
    // The destination reads past the section: into the footer and whatever follows it. QEMU then
    // finds no footer where it stopped (or fails on the bytes it misread).
    return fail('missing-section-footer', qemuLines.missingFooter(s.idstr), 'EINVAL', {
      ...where,
      field: `${err.path}: the destination reads past the section's ${s.body.length} bytes`,
    });
  }
  if (err instanceof VersionTooNewError) {
    const lines = trailer(qemuLines.tooNew(err.vmsd, err.version, err.local), 'EINVAL');
    return {
      reason: 'version-too-new',
      message: lines[0],
      lines,
      errno: 'EINVAL',
      ...where,
      received: err.version,
      local: err.local,
    };
  }
  if (err instanceof VersionTooOldError) {
    const lines = trailer(qemuLines.tooOld(err.vmsd, err.version, err.minimum), 'EINVAL');
    return {
      reason: 'version-too-old',
      message: lines[0],
      lines,
      errno: 'EINVAL',
      ...where,
      received: err.version,
      local: err.minimum,
    };
  }
  if (err instanceof UnknownSubsectionError) {
    // QEMU only traces an unknown subsection (-ENOENT); the first line printed is the section's.
    const lines = trailer(undefined, 'ENOENT');
    return {
      reason: 'unknown-subsection',
      message: lines[0],
      lines,
      errno: 'ENOENT',
      ...where,
      received: err.subsection,
    };
  }
  if (err instanceof EqualMismatchError) {
    const lines = trailer(`${String(err.received)} != ${String(err.expected)}`, 'EINVAL');
    return {
      reason: 'equal-mismatch',
      message: lines[0],
      lines,
      errno: 'EINVAL',
      ...where,
      received: String(err.received),
      local: String(err.expected),
    };
  }
  const lines = trailer(err.what, 'EINVAL');
  return { reason: 'load-failed', message: lines[0], lines, errno: 'EINVAL', ...where };
}

function fail(
  reason: RefusalReason,
  message: string,
  errno: Errno,
  where: Omit<PredictedRefusal, 'reason' | 'message' | 'lines' | 'errno'>,
): PredictedRefusal {
  return { reason, message, lines: [message, qemuLines.loadFailed(errno)], errno, ...where };
}

/** One line for a terminal: `ok`, `lossy: ...`, or `refused: <QEMU's line> (section X, field Y)`. */
export function formatPrediction(p: Prediction): string {
  const head = `${p.release} on ${p.machineType}`;
  if (p.outcome === 'unknown') {
    const u = p.undescribed ?? [];
    const first = `unknown (${head}): cannot predict the load of ${u.length} section(s) the catalog has no description of: ${u.map((x) => `'${x.section}'`).join(', ')}`;
    const why = u.length === 1 ? `\n  ${u[0].why}` : '';
    const then = p.refusal
      ? `\n  if they load, it then refuses: ${p.refusal.message} (section '${p.refusal.section ?? ''}')`
      : `\n  the other ${p.sectionsLoaded} section(s) load`;
    return first + why + then;
  }
  if (p.outcome === 'ok') return `ok (${head} loads all ${p.sectionsLoaded} section(s))`;
  if (p.outcome === 'lossy')
    return `lossy (${head}): ${p.losses.map((l) => `${l.section}: ${l.what}`).join('; ')}`;
  const r = p.refusal!;
  const where = [
    r.section !== undefined
      ? `section '${r.section}'${r.instance !== undefined ? ` instance ${r.instance}` : ''}`
      : undefined,
    r.field ? `field ${r.field}` : undefined,
    `byte 0x${r.offset.toString(16)}`,
  ]
    .filter(Boolean)
    .join(', ');
  return `refused (${head}): ${r.message}\n  where: ${where}\n  QEMU prints:\n${r.lines.map((l) => `    ${l}`).join('\n')}`;
}
