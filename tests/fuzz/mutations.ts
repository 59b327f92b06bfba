/**
 * A mutated stream decoded at a cost that does not grow with the stream: the mutation changes
 * bytes first..last of a seed, so the decode of the bytes before `first` is the seed's own. One
 * walk of the seed (as runOne walks it: its description, the catalog's resolvers) records the
 * walker's checkpoints; a mutation is walked for real from the last checkpoint before `first`,
 * with the encoder and one of the views (json, tree or the script's state format, in turn by the
 * input's bytes: all three cost 2.7x one, a third of a mutation's time) over the records decoded
 * from there on; runOne, and so every cross-checked mutation and reproducer, renders all. Once
 * the walk is past `last` and at a checkpoint where the walker's state equals the seed's at the
 * same offset, the rest is the seed's bytes read from the seed's state: it decodes as the seed
 * did (ok), and the walk stops there.
 *
 * A mutation inside the trailing VM description changes how every device section decodes: it is
 * walked from the first device section (the RAM before it does not depend on the description,
 * when the page size it gives is the seed's), with no early stop. Every `crossCheckEvery`-th
 * mutation is also decoded from byte 0 by runOne, and must end the same.
 */
import { analysisJson } from '../../src/analyze/json-format';
import { qemuDescJson, qemuStateJson } from '../../src/analyze/qemu-format';
import { analysisTree } from '../../src/analyze/tree-format';
import {
  ContentsCollector,
  readStreamContents,
  type StreamContents,
} from '../../src/stream/collect';
import { DEFAULT_PAGE_SIZE } from '../../src/stream/constants';
import { StreamEncoder } from '../../src/stream/encoder';
import type { RamState } from '../../src/stream/ram';
import type { StreamRecord, StreamVisitor } from '../../src/stream/records';
import type { SectionInfo } from '../../src/stream/section';
import { MemorySink } from '../../src/stream/sink';
import { bytesSource } from '../../src/stream/source';
import {
  locateVmdescFromEnd,
  parseVmdesc,
  VmdescIndex,
  type Vmdesc,
} from '../../src/stream/vmdesc';
import { walkStream, type KnownSection, type WalkCheckpoint } from '../../src/stream/walk';
import type { SeedStream } from './inputs';
import { classify, fuzzCatalog, resolversFor, runOne, type Outcome } from './run-one';

/** Thrown from the checkpoint callback to stop a walk that is back in step with the seed's. */
class InStep {
  constructor(readonly pos: number) {}
}

/** How a mutation was decoded (counted in the report: how much of the stream each one walked). */
export type MutationPath = 'resumed' | 'unchanged' | 'vmdesc' | 'from-zero';

export interface MutationResult {
  outcome: Outcome;
  path: MutationPath;
  /** The walk stopped in step with the seed's (the rest decodes as the seed did). */
  inStep: boolean;
  /** Bytes walked for real. */
  walked: number;
}

export class StreamMutations {
  private readonly checkpoints: WalkCheckpoint[] = [];
  private readonly byPos = new Map<number, WalkCheckpoint>();
  private contents?: StreamContents;
  /** The last checkpoint before any device section: what the description cannot have changed. */
  private deviceStart?: WalkCheckpoint;
  /**
   * The seed walked without its description (up to EOF, as the catalog decodes it): a mutated
   * stream whose description is unusable decodes the same way up to its EOF.
   */
  private bare?: { checkpoints: WalkCheckpoint[]; machineType: string | undefined };
  private machineType?: string;
  /** What the rest of the seed's walk after a checkpoint reads of the walker's state (see restOf). */
  private readonly rests = new Map<WalkCheckpoint, Rest>();

  /** The view(s) the input in hand is rendered by. */
  private view: View = 'all';

  private constructor(readonly seed: SeedStream) {}

  static async of(seed: SeedStream): Promise<StreamMutations> {
    const m = new StreamMutations(seed);
    const { machineType, resolvers } = await resolversFor(seed.bytes);
    m.machineType = machineType;
    try {
      m.contents = await readStreamContents(bytesSource(seed.bytes), {
        resolvers,
        onCheckpoint: thinned(m.checkpoints),
        // RAM record by record, as a mutation's walk reads it: a checkpoint every 8th record
        // (every 64th, up to 256 KiB apart, counting pages in runs), so a change in the RAM is
        // walked from close before it to close after it.
        onRam: () => {},
      });
    } catch {
      // A seed that does not decode: its mutations are decoded from byte 0 (runOne).
      m.contents = undefined;
    }
    if (seed.vmdesc) {
      const whole = seed.bytes.subarray(0, seed.eof + 1);
      const { machineType, resolvers: catalog } = await resolversFor(whole);
      const bare = { checkpoints: [] as WalkCheckpoint[], machineType };
      try {
        await walkStream(
          bytesSource(whole),
          { record: () => {} },
          { resolvers: catalog, onCheckpoint: thinned(bare.checkpoints) },
        );
      } catch {
        // The checkpoints up to where the catalog could not read on stay good.
      }
      m.bare = bare;
    }
    for (const cp of m.checkpoints) {
      // RAM checkpoints and top-level ones may share an offset: the top-level one is kept.
      if (!m.byPos.has(cp.pos) || !cp.inRam) m.byPos.set(cp.pos, cp);
      if (!cp.inRam && cp.resolved.length === 0) m.deviceStart = cp;
    }
    return m;
  }

  /**
   * What the seed's walk reads, after checkpoint `cp`, of the state it had there: the section ids
   * of its PART and END records (looked up by id), and the (instance, idstr) of its FULL and START
   * device sections (the description gives a section the next unused entry of its key).
   */
  private restOf(cp: WalkCheckpoint): Rest {
    let r = this.rests.get(cp);
    if (!r) {
      const all = this.checkpoints.at(-1)!.resolved;
      const ids = new Set<number>();
      const keys = new Set<string>();
      for (const x of all.slice(cp.resolved.length))
        if (x.kind === 'part' || x.kind === 'end') ids.add(x.info.sectionId);
        else keys.add(descKey(x.info));
      for (const e of this.contents!.entries)
        if (
          e.type === 'ram-section' &&
          e.offset >= cp.pos &&
          (e.kind === 'part' || e.kind === 'end')
        )
          ids.add(e.sectionId);
      this.rests.set(cp, (r = { ids, keys }));
    }
    return r;
  }

  /** Seed's device sections in resolve order, with the description entry each took (as JSON). */
  private taken?: string[];

  /** The index, in the seed's resolve order, of the first section `desc` gives another entry. */
  private firstOtherEntry(own: Vmdesc, desc: Vmdesc): number {
    const all = this.checkpoints.at(-1)!.resolved;
    if (!this.taken) {
      const idx = new VmdescIndex(own);
      this.taken = all.map((x) =>
        x.kind === 'full' || x.kind === 'start'
          ? JSON.stringify(idx.take(x.info.idstr, x.info.instanceId) ?? null, big)
          : '',
      );
    }
    const idx = new VmdescIndex(desc);
    for (let j = 0; j < all.length; j++) {
      const x = all[j];
      if (x.kind !== 'full' && x.kind !== 'start') continue;
      if (JSON.stringify(idx.take(x.info.idstr, x.info.instanceId) ?? null, big) !== this.taken[j])
        return j;
    }
    return all.length;
  }

  /** The last checkpoint strictly before `at` (a record may peek one byte past its end). */
  private before(at: number): WalkCheckpoint | undefined {
    return lastBefore(this.checkpoints, at);
  }

  /**
   * The mutated stream `bytes`, decoded, with the encoder and a view (`allViews`: every view) over
   * what was decoded.
   */
  async run(bytes: Uint8Array, fromZero = false, allViews = false): Promise<MutationResult> {
    const seed = this.seed;
    const c = this.contents;
    const [first, last] = changed(seed.bytes, bytes);
    this.view = allViews ? 'all' : VIEWS[((first + last + bytes.length) >>> 0) % VIEWS.length];
    const whole = async (): Promise<MutationResult> => ({
      outcome: await runOne(bytes, true),
      path: 'from-zero',
      inStep: false,
      walked: bytes.length,
    });
    if (fromZero || !c) return whole();
    // A mutation that changed nothing (a field set to the value it had) is the seed: its last
    // record before EOF is walked, and the walk stops in step at EOF.
    if (first < 0) return this.walkChanged(bytes, c, seed.eof, seed.eof - 1, 'unchanged');
    return this.walkChanged(bytes, c, first, last, 'resumed');
  }

  private async walkChanged(
    bytes: Uint8Array,
    c: StreamContents,
    first: number,
    last: number,
    path: 'resumed' | 'unchanged',
  ): Promise<MutationResult> {
    const seed = this.seed;
    const vmdescAt = seed.vmdesc?.offset ?? Infinity;
    // Any change from the description's marker on (a splice or bit flips may reach it too).
    if (last >= vmdescAt || bytes.length !== seed.bytes.length)
      return this.inDescription(bytes, c, first);
    // Before the first checkpoint (the head, the configuration): walked from byte 0, with the early stop.
    const cp = this.before(first);

    const { machineType, resolvers } = await resolversFor(bytes);
    // The catalog of a known machine type keeps no state: the resolvers' state is the description's.
    const loose = machineType !== undefined && machineType === this.machineType;
    const collector = new ContentsCollector();
    const encoder = new StreamEncoder(new MemorySink());
    const both: StreamVisitor = {
      record: (r: StreamRecord) => {
        collector.record(r);
        encoder.record(r);
      },
    };
    const original = this.byPos;
    let inStep = false;
    let end = bytes.length;
    try {
      if (cp?.inRam) collector.record(ramSectionRecord(cp.inRam, cp.ram!));
      const walk = await walkStream(bytesSource(bytes), both, {
        resolvers,
        // The seed's description, parsed once: the bytes it is parsed from are the seed's.
        vmdesc: c.walk.vmdesc,
        vmdescAt: c.walk.vmdesc && seed.vmdesc?.offset,
        resumeFrom: cp,
        onCheckpoint: (now) => {
          if (now.pos <= last) return;
          const then = original.get(now.pos);
          if (then && (loose ? sameFor(now, then, this.restOf(then)) : sameState(now, then)))
            throw new InStep(now.pos);
        },
      });
      const got = collector.finish(walk);
      views(got, false, this.view);
    } catch (e) {
      if (!(e instanceof InStep)) {
        return { outcome: classify(e, bytes.length), path, inStep, walked: 0 };
      }
      inStep = true;
      end = e.pos;
      // The rest is the seed's: its EOF, description and walk summary.
      const got = collector.finish(c.walk);
      views({ ...got, eof: c.eof, vmdesc: c.vmdesc, trailing: c.trailing }, false, this.view);
    }
    return { outcome: { kind: 'ok' }, path, inStep, walked: end - (cp?.pos ?? 0) };
  }

  /**
   * A mutation of the description (or its length): the device sections are walked again under
   * it, from the first one, when the RAM before them would have been read alike (same usable
   * description or none, same page size); otherwise from byte 0.
   */
  private async inDescription(
    bytes: Uint8Array,
    c: StreamContents,
    first: number,
  ): Promise<MutationResult> {
    // The last checkpoint before the change that no device section precedes (RAM, the head).
    const before = this.before(first);
    let cp =
      before?.resolved.length === 0
        ? before
        : this.deviceStart && this.deviceStart.pos < first
          ? this.deviceStart
          : undefined;
    const pageSize = cp?.ram?.pageSize;
    let theirs: number | undefined;
    let usable = false;
    let desc: Vmdesc | undefined;
    let descAt: number | undefined;
    /** A description at the end that the walk would find and fail to take up, as here. */
    let refused = false;
    try {
      // As the walk looks for it (and, when usable, is given it: parsed once).
      const found = await locateVmdescFromEnd(bytesSource(bytes));
      if (found?.kind === 'found') {
        refused = true;
        desc = parseVmdesc(found.json, found.offset + 5);
        new VmdescIndex(desc); // as the walk takes it up: what throws here makes it unusable
        theirs = desc.page_size;
        descAt = found.offset;
        usable = true;
        refused = false;
      }
    } catch {
      usable = false;
    }
    const bits = c.configuration?.targetPageBits;
    const fallback = bits !== undefined && bits >= 9 && bits <= 30 ? 2 ** bits : DEFAULT_PAGE_SIZE;
    // Without a usable description the walk goes on by the catalog: the same state up to the
    // first device section, with no description (none was consulted before it).
    if (cp && !usable) cp = { ...cp, hadVmdesc: false };
    const { machineType, resolvers } = await resolversFor(bytes);
    // Or, without one, from the catalog's walk of the seed: its last checkpoint (EOF, or where
    // the catalog could not go on), when the catalog is the same (the same machine type).
    const bare = this.bare && lastBefore(this.bare.checkpoints, first);
    if (!usable && bare && this.bare!.machineType === machineType) cp = bare;
    // With one, the sections that take the same entry of it as in the seed decode as they did:
    // from the last checkpoint before the first that takes another.
    if (usable && cp && c.walk.vmdesc && machineType === this.machineType) {
      const i = this.firstOtherEntry(c.walk.vmdesc, desc!);
      const at = lastBefore(this.checkpoints, first);
      for (let k = at ? this.checkpoints.indexOf(at) : -1; k >= 0; k--) {
        const x = this.checkpoints[k];
        if (x.pos <= cp.pos) break;
        if (x.resolved.length <= i) {
          cp = x;
          break;
        }
      }
    }
    if (!cp || pageSize === undefined || (theirs ?? fallback) !== pageSize)
      return {
        outcome: await runOne(bytes, true),
        path: 'from-zero',
        inStep: false,
        walked: bytes.length,
      };
    const collector = new ContentsCollector();
    const encoder = new StreamEncoder(new MemorySink());
    try {
      if (cp.inRam) collector.record(ramSectionRecord(cp.inRam, cp.ram!));
      const walk = await walkStream(
        bytesSource(bytes),
        {
          record: (r) => {
            collector.record(r);
            encoder.record(r);
          },
        },
        {
          resolvers,
          resumeFrom: cp,
          ...(usable && { vmdesc: desc, vmdescAt: descAt }),
          // Not looked for and parsed again only to be refused again (the record after EOF
          // still parses it, and reports why it is refused).
          ...(refused && { useVmdesc: false }),
        },
      );
      views(collector.finish(walk), true, this.view);
    } catch (e) {
      return { outcome: classify(e, bytes.length), path: 'vmdesc', inStep: false, walked: 0 };
    }
    return {
      outcome: { kind: 'ok' },
      path: 'vmdesc',
      inStep: false,
      walked: bytes.length - cp.pos,
    };
  }
}

const VIEWS = ['json', 'tree', 'qemu'] as const;
type View = (typeof VIEWS)[number] | 'all';

/** runOne's views (json, tree, the script's state and description formats), or one of them. */
function views(got: StreamContents, description: boolean, view: View): void {
  const v = fuzzCatalog().views;
  if (view === 'all' || view === 'json') analysisJson(got, 'fuzz.mig', v);
  if (view === 'all' || view === 'tree') analysisTree(got, 'fuzz.mig', { views: v });
  if (view === 'all' || view === 'qemu') {
    qemuStateJson(got);
    // The description's own format reads only its bytes: unchanged ones give the seed's output.
    if (description && got.vmdesc) qemuDescJson(got);
  }
}

/** The RAM section a walk resumed inside it is in (the collector counts its records there). */
function ramSectionRecord(
  inRam: NonNullable<WalkCheckpoint['inRam']>,
  ram: RamState,
): StreamRecord {
  return {
    type: 'ram-section',
    kind: inRam.kind,
    offset: inRam.offset,
    depth: 0,
    pageSize: ram.pageSize,
    ...inRam.info,
  };
}

/** The first and last offsets where two byte strings differ ([-1, -1] when equal). */
export function changed(a: Uint8Array, b: Uint8Array): [number, number] {
  const n = Math.min(a.length, b.length);
  const A = Buffer.from(a.buffer, a.byteOffset, a.length);
  const B = Buffer.from(b.buffer, b.byteOffset, b.length);
  const step = 4096;
  let first = -1;
  for (let at = 0; at < n && first < 0; at += step) {
    const e = Math.min(n, at + step);
    if (A.compare(B, at, e, at, e) !== 0)
      for (let i = at; i < e; i++)
        if (a[i] !== b[i]) {
          first = i;
          break;
        }
  }
  if (a.length !== b.length) return [first < 0 ? n : first, Math.max(a.length, b.length) - 1];
  if (first < 0) return [-1, -1];
  let lastAt = first;
  for (let e = n; e > first; e -= step) {
    const at = Math.max(first, e - step);
    if (A.compare(B, at, e, at, e) !== 0) {
      for (let i = e - 1; i >= at; i--)
        if (a[i] !== b[i]) {
          lastAt = i;
          break;
        }
      break;
    }
  }
  return [first, lastAt];
}

const sameInfo = (a: SectionInfo, b: SectionInfo) =>
  a.sectionId === b.sectionId &&
  a.idstr === b.idstr &&
  a.instanceId === b.instanceId &&
  a.versionId === b.versionId;

const sameKnown = (a: KnownSection, b: KnownSection | undefined) =>
  !!b && a.ram === b.ram && sameInfo(a.info, b.info);

function sameRam(a: RamState | undefined, b: RamState | undefined): boolean {
  if (!a || !b) return a === b;
  if (
    a.pageSize !== b.pageSize ||
    a.ignoreShared !== b.ignoreShared ||
    a.postcopyPageSizes !== b.postcopyPageSizes ||
    a.lastBlock !== b.lastBlock ||
    a.blockOrder.length !== b.blockOrder.length ||
    a.blocks.size !== b.blocks.size
  )
    return false;
  const same = (x: object | undefined, y: object | undefined) =>
    !!x && !!y && JSON.stringify(x, big) === JSON.stringify(y, big);
  for (let i = 0; i < a.blockOrder.length; i++)
    if (!same(a.blockOrder[i], b.blockOrder[i])) return false;
  for (const [k, v] of a.blocks) if (!same(v, b.blocks.get(k))) return false;
  return true;
}
const big = (_: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v);

interface Rest {
  ids: Set<number>;
  keys: Set<string>;
}

/** The vmdesc index's key of a section (vmdesc.ts): which entries the description gives it. */
const descKey = (i: SectionInfo) => `${i.instanceId}\u0000${i.idstr}`;

const countKeys = (resolved: WalkCheckpoint['resolved'], keys: Set<string>) => {
  const n = new Map<string, number>();
  for (const x of resolved)
    if (x.kind === 'full' || x.kind === 'start') {
      const k = descKey(x.info);
      if (keys.has(k)) n.set(k, (n.get(k) ?? 0) + 1);
    }
  return n;
};

/**
 * Whether a walk at a checkpoint reads the rest of the seed's bytes as the seed's walk did from
 * the same offset: the same state, except for what the rest never reads (`rest`): entries of
 * section ids no later PART/END names (a later START/FULL sets its own), and sections shown to
 * the resolvers whose key no later section has (so the description gives every later section
 * the same entry). With a stateful resolver (the catalog learning the chipset) use sameState.
 */
export function sameFor(a: WalkCheckpoint, b: WalkCheckpoint, rest: Rest): boolean {
  if (
    a.pos !== b.pos ||
    a.hadVmdesc !== b.hadVmdesc ||
    a.footersSeen !== b.footersSeen ||
    !a.inRam !== !b.inRam
  )
    return false;
  if (
    a.inRam &&
    (a.inRam.kind !== b.inRam!.kind ||
      a.inRam.offset !== b.inRam!.offset ||
      !sameInfo(a.inRam.info, b.inRam!.info))
  )
    return false;
  for (const id of rest.ids) {
    const x = a.sections.get(id);
    const y = b.sections.get(id);
    if (x ? !sameKnown(x, y) : y) return false;
  }
  const na = countKeys(a.resolved, rest.keys);
  const nb = countKeys(b.resolved, rest.keys);
  if (na.size !== nb.size) return false;
  for (const [k, v] of na) if (nb.get(k) !== v) return false;
  return sameRam(a.ram, b.ram);
}

/** Whether a walk at a checkpoint is where the seed's walk was at the same offset. */
export function sameState(a: WalkCheckpoint, b: WalkCheckpoint): boolean {
  if (
    a.pos !== b.pos ||
    a.hadVmdesc !== b.hadVmdesc ||
    a.footersSeen !== b.footersSeen ||
    a.sections.size !== b.sections.size ||
    a.resolved.length !== b.resolved.length ||
    !a.inRam !== !b.inRam
  )
    return false;
  if (
    a.inRam &&
    (a.inRam.kind !== b.inRam!.kind ||
      a.inRam.offset !== b.inRam!.offset ||
      !sameInfo(a.inRam.info, b.inRam!.info))
  )
    return false;
  for (const [id, s] of a.sections) if (!sameKnown(s, b.sections.get(id))) return false;
  for (let i = 0; i < a.resolved.length; i++)
    if (
      a.resolved[i].kind !== b.resolved[i].kind ||
      !sameInfo(a.resolved[i].info, b.resolved[i].info)
    )
      return false;
  return sameRam(a.ram, b.ram);
}

/**
 * RAM checkpoints are kept one per this many bytes at most. The campaign keeps every seed's
 * checkpoints for the whole run, and each holds a copy of the RAM state: a walk of a rich seed
 * gives one every 8th RAM record (1,550 of them, 1.4 MiB; 77 MiB for the 56 seeds). A walk
 * resumed up to this far before a change reads only a few more page records.
 */
export const RAM_CHECKPOINT_SPACING = 16 * 1024;

/** A checkpoint callback that appends to `into` every top-level checkpoint and the RAM ones spaced out. */
export function thinned(into: WalkCheckpoint[]): (cp: WalkCheckpoint) => void {
  let lastRam = -Infinity;
  return (cp) => {
    if (cp.inRam) {
      if (cp.pos - lastRam < RAM_CHECKPOINT_SPACING) return;
      lastRam = cp.pos;
    }
    into.push(cp);
  };
}

/** The last of `cps` (in stream order) strictly before `at`. */
function lastBefore(cps: WalkCheckpoint[], at: number): WalkCheckpoint | undefined {
  let lo = 0;
  let hi = cps.length - 1;
  let found: WalkCheckpoint | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cps[mid].pos < at) {
      found = cps[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
