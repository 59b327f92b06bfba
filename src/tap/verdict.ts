import type { LoadPlatform } from '../predict/platform';
import {
  footerFailure,
  predictContents,
  type PredictedLoss,
  type PredictedRefusal,
  type Prediction,
  type PredictInput,
} from '../predict/predict';
import { VMStateError } from '../errors';
import type { ConfigurationRecord, HeaderRecord, StreamRecord } from '../stream/records';
import { sectionPath } from '../stream/section';

/** Why the destination would refuse what just passed, and where. */
export interface Refusal {
  /** Offset of the record that would be refused (its first byte never reaches the destination with --abort-on-refusal). */
  offset: number;
  /** `idstr#instance`, 'configuration', or 'command'. */
  where: string;
  /** The first line QEMU prints. */
  reason: string;
  /** All of `vmstate predict`'s refusal: reason code, QEMU's lines, section, field, offset. */
  refusal: PredictedRefusal;
}

export type SectionVerdict =
  | { verdict: 'ok' }
  | { verdict: 'refused'; reason: string }
  /** No destination to judge against (the stream's machine type is not in the catalog). */
  | { verdict: 'unknown'; reason: string };

/**
 * The destination QEMU: one platform, or one chosen by the machine type the stream names; a
 * string says why there is none (a machine type the catalog does not describe).
 */
export type Destination =
  LoadPlatform | ((streamMachineType: string | undefined) => LoadPlatform | string);

/**
 * `vmstate predict`'s verdict given as the stream passes: each record is judged by predict's own
 * rules (predictContents, on the same destination catalogs) as soon as it has been read, so the
 * first failing record is known before the destination has it, and at the end of the stream
 * the prediction is the one `vmstate predict` gives for the whole stream. As in QEMU (and
 * predict), nothing after the first refusal is judged: the destination has stopped there.
 */
export class PredictionCheck {
  private header?: HeaderRecord;
  private configuration?: ConfigurationRecord;
  private platform?: LoadPlatform;
  /** Why there is no platform. */
  private unknown?: string;
  private resolved = false;
  private loaded = 0;
  private readonly losses: PredictedLoss[] = [];
  /** The first refusal; nothing is judged after it. */
  refusal?: Refusal;

  constructor(
    readonly release: string,
    private readonly destination: Destination,
  ) {}

  /** Why no verdict can be given (set once the stream's machine type is known). */
  get unknownReason(): string | undefined {
    return this.unknown;
  }

  private resolve(): LoadPlatform | undefined {
    if (!this.resolved) {
      this.resolved = true;
      const d = this.destination;
      const p = typeof d === 'function' ? d(this.configuration?.machineType) : d;
      if (typeof p === 'string') this.unknown = p;
      else this.platform = p;
    }
    return this.platform;
  }

  /** A record of the walk as it passes: its verdict, for the records predict judges (configuration, FULL/START sections). */
  record(rec: StreamRecord): SectionVerdict | undefined {
    if (rec.type === 'header') {
      this.header ??= rec;
      return undefined;
    }
    let entry: PredictInput['entries'][number] | undefined;
    let where: string;
    let offset: number;
    let judged = false;
    if (rec.type === 'configuration') {
      if (rec.depth !== 0 || this.resolved) return undefined;
      this.configuration = rec;
      where = 'configuration';
      offset = rec.offset;
      judged = true;
    } else if (rec.type === 'section') {
      const s = rec.section;
      entry = { type: 'section', section: s };
      where = sectionPath({ idstr: s.idstr, instanceId: s.instanceId });
      offset = s.offset;
      judged = s.kind === 'full' || s.kind === 'start';
    } else if (rec.type === 'ram-section' || rec.type === 'command') {
      entry = rec;
      where = rec.type === 'command' ? 'command' : sectionPath(rec);
      offset = rec.offset;
    } else return undefined;
    if (this.refusal || !this.header) return undefined;
    const platform = this.resolve();
    if (!platform)
      return judged ? { verdict: 'unknown', reason: this.unknown ?? 'no destination' } : undefined;
    const p = predictContents(
      {
        header: this.header,
        configuration: this.configuration,
        entries: entry ? [entry] : [],
      },
      platform,
    );
    if (p.outcome === 'refused') {
      const r = p.refusal!;
      this.loaded += p.sectionsLoaded;
      this.refusal = {
        offset,
        where: r.section === 'configuration' ? 'configuration' : where,
        reason: r.message,
        refusal: r,
      };
      return { verdict: 'refused', reason: r.message };
    }
    this.loaded += p.sectionsLoaded;
    this.losses.push(...p.losses);
    return judged ? { verdict: 'ok' } : undefined;
  }

  /**
   * The walk stopped on `err`: where it is a section footer QEMU checks too, the destination
   * refuses there (as `vmstate predict` says); `offset` is the first byte not yet judged.
   */
  walkFailed(err: unknown, offset: number): Refusal | undefined {
    if (this.refusal || !this.header || !(err instanceof VMStateError)) return undefined;
    if (!this.resolve()) return undefined;
    const r = footerFailure(err);
    if (!r) return undefined;
    this.refusal = {
      offset,
      where: sectionPath({ idstr: r.section ?? '?', instanceId: r.instance ?? 0 }),
      reason: r.message,
      refusal: r,
    };
    return this.refusal;
  }

  /** The prediction for what passed so far: at the end of the stream, `vmstate predict`'s. */
  prediction(): Prediction | undefined {
    const platform = this.resolve();
    if (!platform) return undefined;
    const base = {
      release: platform.release,
      machineType: platform.machineType,
      streamMachineType: this.configuration?.machineType,
      sectionsLoaded: this.loaded,
    };
    if (this.refusal)
      return { ...base, outcome: 'refused', refusal: this.refusal.refusal, losses: [] };
    return { ...base, outcome: this.losses.length ? 'lossy' : 'ok', losses: [...this.losses] };
  }
}
