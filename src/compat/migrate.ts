/**
 * A simulated migration between two releases: the source QEMU writes the VM's device state as a
 * whole stream with its catalog on a machine type, the destination QEMU (same machine type, same
 * host) loads it with its own catalog, and the outcome says what a user would have seen:
 *
 *  - ok: loaded, and every value the source sent arrived unchanged (a release that silently
 *    drops state it never sends, like 3.0 with a nested guest, is ok with a note);
 *  - refused: the migration failed cleanly (a blocker or a pre_save refusal at the source, an
 *    unknown machine type, or the destination's loader refusing the stream), with QEMU's reason
 *    and where;
 *  - lossy: loaded, but a value the source's needed() sent was dropped or changed on the way:
 *    silent corruption, always a design bug;
 *  - crash: an exception that is not a VMStateError, always a bug of ours.
 *
 * Everything a source computes (its ctx, stream, what it sent) and every load of a given stream
 * by a given release is kept in a MigrationCache, so one VM migrated across a whole matrix
 * encodes and decodes each distinct stream once.
 */
import { valuesEqual } from '../dsl/kinds';
import type { State } from '../dsl/kind';
import { VMStateError } from '../errors';
import type { Ctx } from '../dsl/kind';
import { findMachine, machineCtx, type Release, type VmStates } from './release';
import { readsAgree, withPropsReads, type PropsReads } from './props-reads';
import { formatPath, sentBy, valueAt, type Sent, type StatePath } from './sent';
import { concat, decodeSections, encodeSections, sectionsSent, streamHead } from './vm-stream';

export interface Vm {
  /** The host: accelerator, CPU model, KVM capabilities (both sides run on alike hosts). */
  readonly ctx: Ctx;
  readonly state: VmStates;
}

/** A generated VM and the scenario it started from (for messages). */
export interface GeneratedVm extends Vm {
  readonly base: string;
}

export interface Source {
  readonly release: Release;
  readonly machine: string;
}

export type Side = 'source' | 'destination';

/** Why a migration was refused, as QEMU would report it, and where. */
export interface Refusal {
  readonly side: Side;
  /** 'blocker', 'unknown-machine', 'save-refused', or the loader's error code ('unknown-subsection', 'version-too-new'...). */
  readonly reason: string;
  readonly message: string;
  /** For loader errors: the section (`cpu#0`), the path inside it, and the absolute stream offset. */
  readonly section?: string;
  readonly path?: string;
  readonly offset?: number;
}

/** A value that was sent and did not arrive as sent. */
export interface ChangedValue {
  readonly section: string;
  readonly path: string;
}

export type MigrationOutcome =
  | { readonly kind: 'ok'; readonly notes: readonly string[] }
  | { readonly kind: 'refused'; readonly refusal: Refusal; readonly notes: readonly string[] }
  | {
      readonly kind: 'lossy';
      readonly changed: readonly ChangedValue[];
      readonly notes: readonly string[];
    }
  | {
      readonly kind: 'crash';
      readonly side: Side;
      readonly error: string;
      readonly notes: readonly string[];
    };

export type OutcomeKind = MigrationOutcome['kind'];
export const OUTCOME_KINDS: readonly OutcomeKind[] = ['ok', 'refused', 'lossy', 'crash'];

/** What the source did: refused or crashed, or wrote its sections (and what went into them). */
export type SourceResult =
  | {
      readonly done: false;
      readonly refused?: { reason: string; message: string; error?: VMStateError };
      readonly crash?: unknown;
      readonly lost?: string;
    }
  | {
      readonly done: true;
      /** The device part of the stream (sections and EOF); the machine type's header goes before it. */
      readonly sections: Uint8Array;
      /** Same id for byte-identical device parts of one VM. */
      readonly sectionsId: number;
      /** What each sent section put on the wire, by section key. */
      readonly sent: ReadonlyMap<string, Sent>;
      /** release.losses(): state the source never sends for this VM (QEMU migrated without it). */
      readonly lost?: string;
    };
type Written = Extract<SourceResult, { done: true }>;

type LoadResult =
  | { readonly ok: true; readonly states: Record<string, State> }
  | { readonly ok: false; readonly error: unknown };

/** A comparison of what a source sent with what a load holds (MigrationCache.compare). */
interface Compared {
  readonly changed: readonly ChangedValue[];
  /** Set when the source could not load its own stream, which the comparison fell back on. */
  readonly selfNote?: string;
}

/**
 * A release on a machine type for this VM: the ctx its descriptions see, and what the release
 * wrote and loaded there (shared with other machine types through sharedRun).
 */
interface SideCtx {
  readonly ctx: Ctx;
  source?: SourceResult;
  /** Loads by device part id. */
  readonly loads: Map<number, LoadResult>;
}

/**
 * Everything migrations of one VM compute that does not depend on the other side. A release's
 * output depends only on the VM and the ctx (machine types differ only by their compat
 * properties), and only on the properties it reads: machine types that agree on those (most of
 * a release's, for a given VM) share one encoding and one load of each device part.
 */
export class MigrationCache {
  private readonly ctxs = new Map<Release, Map<string, SideCtx | null>>();
  private readonly parts: Uint8Array[] = [];
  private readonly heads = new Map<string, Uint8Array>();
  private readonly compared = new Map<LoadResult, Map<SideCtx, Compared>>();
  private readonly differing = new Map<LoadResult, Map<Written, readonly Difference[]>>();
  /** Source runs by release and loads by release and device part, each with the props it read. */
  private readonly sourceRuns = new Map<Release, PropsRun<SourceResult>[]>();
  private readonly loadRuns = new Map<Release, Map<number, PropsRun<LoadResult>[]>>();

  constructor(readonly vm: Vm) {}

  /** The ctx a release's descriptions see on a machine type, or undefined when it has no such machine type. */
  side(release: Release, machine: string): SideCtx | undefined {
    let byMachine = this.ctxs.get(release);
    if (!byMachine) this.ctxs.set(release, (byMachine = new Map()));
    let side = byMachine.get(machine);
    if (side === undefined) {
      const m = findMachine(release, machine);
      side = m ? { ctx: machineCtx(this.vm.ctx, m), loads: new Map() } : null;
      byMachine.set(machine, side);
    }
    return side ?? undefined;
  }

  /** Header and configuration of a stream on this machine type. */
  head(machine: string): Uint8Array {
    let h = this.heads.get(machine);
    if (!h) this.heads.set(machine, (h = streamHead(machine)));
    return h;
  }

  source(release: Release, side: SideCtx): SourceResult {
    return (side.source ??= sharedRun(this.sourceRuns, release, side.ctx, (ctx) =>
      this.runSource(release, ctx),
    ));
  }

  private runSource(release: Release, ctx: Ctx): SourceResult {
    let lost: string | undefined;
    try {
      const blocker = release.blockers(this.vm.state, ctx);
      if (blocker)
        return {
          done: false,
          refused: {
            reason: 'blocker',
            message: `QEMU ${release.name} refuses to migrate this VM: ${blocker}`,
          },
        };
      lost = release.losses(this.vm.state, ctx);
      const states = lost ? release.observe(this.vm.state, ctx) : this.vm.state;
      const sections = encodeSections(release.catalog, states, ctx);
      const sent = new Map<string, Sent>();
      for (const s of sectionsSent(release.catalog, states, ctx))
        sent.set(s.key, sentBy(s.section.vmsd, s.state, ctx));
      return { done: true, sections, sectionsId: this.partId(sections), sent, lost };
    } catch (e) {
      if (e instanceof VMStateError)
        return {
          done: false,
          refused: { reason: 'save-refused', message: e.what, error: e },
          lost,
        };
      return { done: false, crash: e, lost };
    }
  }

  /** Identical device parts get one id, so each release loads each distinct part once. */
  private partId(part: Uint8Array): number {
    const b = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    const i = this.parts.findIndex(
      (x) =>
        x.length === part.length && b.equals(Buffer.from(x.buffer, x.byteOffset, x.byteLength)),
    );
    if (i >= 0) return i;
    this.parts.push(part);
    return this.parts.length - 1;
  }

  /** A release loading a device part (offsets in errors are relative to the part). */
  load(release: Release, side: SideCtx, src: Written): LoadResult {
    let r = side.loads.get(src.sectionsId);
    if (!r) {
      let byPart = this.loadRuns.get(release);
      if (!byPart) this.loadRuns.set(release, (byPart = new Map()));
      r = sharedRun(byPart, src.sectionsId, side.ctx, (ctx) =>
        loadPart(release, src.sections, ctx),
      );
      side.loads.set(src.sectionsId, r);
    }
    return r;
  }

  /**
   * What of the values a source sent arrived changed at a destination's load: compared with the
   * values written, and where those differ, with what the source itself holds after loading its
   * own stream (post_load hooks may normalize a value, alike on both sides). Depends only on the
   * source and the load, so cells that share both compare once.
   */
  compare(
    release: Release,
    srcSide: SideCtx,
    src: Written,
    got: Extract<LoadResult, { ok: true }>,
  ): Compared {
    // Most loads hold every value as sent: that part depends only on the source's output and
    // the load, which cells of many machine types share.
    let bySent = this.differing.get(got);
    if (!bySent) this.differing.set(got, (bySent = new Map()));
    let diffs = bySent.get(src);
    if (!diffs) bySent.set(src, (diffs = differences(src, got)));
    if (diffs.length === 0) return UNCHANGED;
    let bySource = this.compared.get(got);
    if (!bySource) this.compared.set(got, (bySource = new Map()));
    let r = bySource.get(srcSide);
    if (!r) bySource.set(srcSide, (r = this.runCompare(release, srcSide, src, diffs)));
    return r;
  }

  /** Which differences stay once the source's own load of its stream is asked. */
  private runCompare(
    release: Release,
    srcSide: SideCtx,
    src: Written,
    diffs: readonly Difference[],
  ): Compared {
    const self = this.load(release, srcSide, src);
    const selfNote = self.ok
      ? undefined
      : `QEMU ${release.name} cannot load its own stream: ${errorText(self.error).split('\n')[0]}`;
    const changed: ChangedValue[] = [];
    for (const { section, path: p, have } of diffs) {
      const own = self.ok ? self.states[section] : undefined;
      if (have !== undefined && own !== undefined && valuesEqual(valueAt(own, p), have)) continue;
      changed.push({ section, path: formatPath(p) });
    }
    return { changed, selfNote };
  }

  /** The whole stream the source writes (for reproductions), or undefined when it writes none. */
  stream(from: Source): Uint8Array | undefined {
    const side = this.side(from.release, from.machine);
    const src = side && this.source(from.release, side);
    return src?.done ? concat(this.head(from.machine), src.sections) : undefined;
  }
}

/**
 * A release loading a device part. A refusing load throws a VMStateError, whose message, path
 * and offset are all a refusal keeps: it is made without a stack trace (capturing one cost a
 * matrix of 200,000 migrations more than the refusal itself). Anything else is a crash, whose
 * stack is its report: that load runs again with stack traces.
 */
function loadPart(release: Release, part: Uint8Array, ctx: Ctx): LoadResult {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return { ok: true, states: decodeSections(release.catalog, part, ctx) };
  } catch (error) {
    if (error instanceof VMStateError) return { ok: false, error };
  } finally {
    Error.stackTraceLimit = limit;
  }
  try {
    return { ok: true, states: decodeSections(release.catalog, part, ctx) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A value sent that a load holds otherwise (or not at all). */
interface Difference {
  readonly section: string;
  readonly path: StatePath;
  readonly have: unknown;
}

const UNCHANGED: Compared = Object.freeze({ changed: Object.freeze([]) });

/** The values the source sent that the load does not hold as sent, in the order sent. */
function differences(src: Written, got: Extract<LoadResult, { ok: true }>): Difference[] {
  const out: Difference[] = [];
  for (const [section, sent] of src.sent) {
    const arrived = got.states[section];
    for (const run of sent.runs) {
      const holder = arrived === undefined ? undefined : valueAt(arrived, run.at);
      const has = holder !== null && typeof holder === 'object';
      const { keys, values } = run;
      for (let i = 0; i < keys.length; i++) {
        const have: unknown = has
          ? (holder as Record<string | number, unknown>)[keys[i]]
          : undefined;
        if (have === undefined || !valuesEqual(values[i], have))
          out.push({ section, path: [...run.at, keys[i]], have });
      }
    }
  }
  return out;
}

/** A computation of one VM kept with the props it read (see props-reads.ts). */
interface PropsRun<T> {
  readonly reads: PropsReads;
  readonly result: T;
}

/**
 * The result of `run` on ctx: one an earlier run under `key` gave, when ctx's props agree with
 * everything that run read, else a new run's.
 */
function sharedRun<K, T>(runs: Map<K, PropsRun<T>[]>, key: K, ctx: Ctx, run: (ctx: Ctx) => T): T {
  let list = runs.get(key);
  if (!list) runs.set(key, (list = []));
  for (const e of list) if (readsAgree(e.reads, ctx.props)) return e.result;
  const { result, reads } = withPropsReads(ctx, run);
  list.push({ reads, result });
  return result;
}

/**
 * Migrates a VM from a release on a machine type to another release (same machine type). Never
 * throws: whatever happens is an outcome. Pass the same cache for many migrations of one VM.
 */
export function migrate(
  vm: Vm,
  from: Source,
  to: { readonly release: Release },
  cache?: MigrationCache,
): MigrationOutcome {
  const c = cache && cache.vm === vm ? cache : new MigrationCache(vm);
  const srcSide = c.side(from.release, from.machine);
  if (!srcSide)
    return {
      kind: 'refused',
      refusal: {
        side: 'source',
        reason: 'unknown-machine',
        message: `QEMU ${from.release.name} has no machine type '${from.machine}'`,
      },
      notes: [],
    };
  const src = c.source(from.release, srcSide);
  const notes = src.lost ? [src.lost] : [];
  const base = c.head(from.machine).length;
  if (!src.done) {
    if (src.refused) {
      const where = src.refused.error
        ? placedRefusal(src.refused.error, base, 'source')
        : undefined;
      return {
        kind: 'refused',
        refusal: {
          ...where,
          side: 'source',
          reason: src.refused.reason,
          message: src.refused.message,
        },
        notes,
      };
    }
    return { kind: 'crash', side: 'source', error: errorText(src.crash), notes };
  }
  const dstSide = c.side(to.release, from.machine);
  if (!dstSide)
    return {
      kind: 'refused',
      refusal: {
        side: 'destination',
        reason: 'unknown-machine',
        message: `QEMU ${to.release.name} has no machine type '${from.machine}'`,
      },
      notes,
    };
  const got = c.load(to.release, dstSide, src);
  if (!got.ok) {
    if (got.error instanceof VMStateError)
      return { kind: 'refused', refusal: placedRefusal(got.error, base, 'destination'), notes };
    return { kind: 'crash', side: 'destination', error: errorText(got.error), notes };
  }
  const compared = c.compare(from.release, srcSide, src, got);
  if (compared.selfNote) notes.push(compared.selfNote);
  const changed = compared.changed;
  if (changed.length) return { kind: 'lossy', changed, notes };
  return { kind: 'ok', notes };
}

/**
 * The refusal of a cached failed load (or save) on a machine type whose stream head is `base`
 * bytes: what refusalOf(e.relocated(base, ''), side) gives, made once per error and head and
 * without relocating the error (which formats its stack), since a matrix refuses the same cached
 * load in many cells.
 */
const placedRefusals = new WeakMap<VMStateError, Map<string, Refusal>>();
function placedRefusal(e: VMStateError, base: number, side: Side): Refusal {
  let byBase = placedRefusals.get(e);
  if (!byBase) placedRefusals.set(e, (byBase = new Map()));
  const key = `${side}${base}`;
  let r = byBase.get(key);
  if (!r) byBase.set(key, (r = { ...refusalOf(e, side), offset: e.offset + base }));
  return r;
}

export function refusalOf(e: VMStateError, side: Side): Refusal {
  const section = e.path ? e.path.split(' > ')[0] : undefined;
  return { side, reason: e.code, message: e.what, section, path: e.path, offset: e.offset };
}

function errorText(e: unknown): string {
  return e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
}

/** One line for a terminal. */
export function formatOutcome(o: MigrationOutcome): string {
  const notes = o.notes.length ? ` [note: ${o.notes.join('; ')}]` : '';
  switch (o.kind) {
    case 'ok':
      return `ok${notes}`;
    case 'refused': {
      const r = o.refusal;
      const where =
        r.path !== undefined
          ? ` at ${r.path || '-'}${r.offset !== undefined ? `, byte 0x${r.offset.toString(16)}` : ''}`
          : '';
      return `refused by the ${r.side} (${r.reason}): ${r.message}${where}${notes}`;
    }
    case 'lossy':
      return `lossy: ${o.changed.length} value(s) sent but not received as sent: ${o.changed
        .slice(0, 6)
        .map((c) => `${c.section}: ${c.path}`)
        .join(', ')}${o.changed.length > 6 ? ', ...' : ''}${notes}`;
    case 'crash':
      return `crash in the ${o.side}: ${o.error.split('\n')[0]}${notes}`;
  }
}
