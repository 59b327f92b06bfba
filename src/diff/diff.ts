import { VMStateError } from '../errors';
import { sectionMatcher } from '../analyze/section-filter';
import { readStreamContents, type StreamContents } from '../stream/collect';
import type { DeviceSection } from '../stream/section';
import type { ChunkSource } from '../stream/source';
import type { WalkOptions } from '../stream/walk';
import { diffFields, flatten } from './fields';
import { PAGES_PER_CHUNK, PageHashes } from './page-hashes';
import type {
  FieldDiff,
  PageRange,
  RamBlockDiff,
  RamDiff,
  SectionDiff,
  SectionSide,
  StreamDiff,
} from './types';

export type RamMode = 'none' | 'summary' | 'pages';

export interface DiffOptions {
  /** Names shown for the two streams (file names). */
  names?: [string, string];
  /** Only these sections: globs over idstr or `idstr#instance`, or the idstr's last path element (`ide`). */
  sections?: string[];
  /** RAM: not compared, block lists and counts (default), or page by page. */
  ram?: RamMode;
  /** Walk options for each stream (e.g. the catalog's resolvers, made fresh for each walk). */
  walk?: (side: 'a' | 'b') => WalkOptions;
}

/** A malformed input, naming which of the two it was. */
export class DiffInputError extends Error {
  constructor(
    readonly side: 'a' | 'b',
    readonly file: string,
    readonly error: VMStateError,
  ) {
    super(`${file}: ${error.message}`);
  }
}

/**
 * Compares two migration streams: sections aligned by (idstr, instance), never by section id;
 * per section its version, subsections and every differing field; RAM blocks and, with
 * `ram: 'pages'`, the pages whose final content differs (by page hashes, so neither stream's RAM
 * is held). Both streams are read once, side by side.
 */
export async function diffStreams(
  a: ChunkSource,
  b: ChunkSource,
  opts: DiffOptions = {},
): Promise<StreamDiff> {
  const [nameA, nameB] = opts.names ?? ['A', 'B'];
  const mode = opts.ram ?? 'summary';
  const read = async (side: 'a' | 'b', src: ChunkSource, name: string) => {
    const walk = opts.walk?.(side) ?? {};
    let hashes: PageHashes | undefined;
    // The walk names a page's block (a record through onRam, which makes `hashes`) before it
    // hands on any page of it in a stretch.
    const known = () => {
      if (!hashes) throw new Error('a RAM page before its block');
      return hashes;
    };
    try {
      const contents = await readStreamContents(
        src,
        mode === 'pages'
          ? {
              ...walk,
              onRam: (rec, pageSize) => {
                hashes ??= new PageHashes(pageSize);
                hashes.record(rec);
              },
              // Raw pages in stretches (from the input buffer, or left in the input file and
              // hashed through its mapping), not a record object each.
              onPages: (block, addr, b, from, count) => known().pages(block, addr, b, from, count),
              onZeroPage: (block, addr) => known().zeroPage(block, addr),
              onFilePages: (block, addr, file, from, count) =>
                known().filePages(block, addr, file, from, count),
            }
          : walk,
      );
      return { contents, hashes };
    } catch (e) {
      if (e instanceof VMStateError) throw new DiffInputError(side, name, e);
      throw e;
    }
  };
  const [ra, rb] = await Promise.all([read('a', a, nameA), read('b', b, nameB)]);
  const ca = ra.contents;
  const cb = rb.contents;

  const configuration = diffConfiguration(ca, cb);
  const sections = diffSections(ca, cb, opts.sections);
  const ram = mode === 'none' ? undefined : diffRam(ca, cb, mode, ra.hashes, rb.hashes);
  const count = (s: SectionDiff['status']) => sections.filter((x) => x.status === s).length;
  const ramBlocksDiffer = ram ? ram.blocks.filter((x) => x.status !== 'same-size').length : 0;
  const summary = {
    onlyInA: count('only-a'),
    onlyInB: count('only-b'),
    changed: count('changed'),
    same: count('same'),
    pagesDiffer: ram?.differingPages,
    ramBlocksDiffer,
    configurationDiffers: configuration.length > 0,
    identical: false,
  };
  summary.identical =
    summary.onlyInA + summary.onlyInB + summary.changed + ramBlocksDiffer === 0 &&
    !summary.configurationDiffers &&
    !summary.pagesDiffer;
  return {
    a: side(nameA, ca),
    b: side(nameB, cb),
    summary,
    configuration,
    sections,
    ram,
  };
}

function side(name: string, c: StreamContents) {
  return {
    name,
    size: c.walk.size,
    machineType: c.configuration?.machineType,
    vmdesc: c.walk.vmdescFrom,
  };
}

function diffConfiguration(a: StreamContents, b: StreamContents): FieldDiff[] {
  const out: FieldDiff[] = [];
  const cmp = (path: string, x: string | undefined, y: string | undefined) => {
    if (x === y) return;
    const change = x === undefined ? 'only-b' : y === undefined ? 'only-a' : 'value';
    out.push({ path, field: path, change, a: x, b: y });
  };
  const ca = a.configuration;
  const cb = b.configuration;
  cmp('machine', ca?.machineType, cb?.machineType);
  cmp('target-page-bits', ca?.targetPageBits?.toString(), cb?.targetPageBits?.toString());
  cmp('capabilities', ca?.capabilities?.join(','), cb?.capabilities?.join(','));
  return out;
}

const key = (idstr: string, instance: number) => `${idstr}#${instance}`;

/**
 * `--section`: the glob of analyze and explore (`*`, `?`, over idstr or idstr#instance), or the
 * idstr's last path element (`ide` for `0000:00:01.1/ide`).
 */
function matcherOf(filters: string[] | undefined): (idstr: string, instance: number) => boolean {
  if (!filters || filters.length === 0) return () => true;
  const glob = sectionMatcher(filters);
  return (idstr, instance) =>
    glob(idstr, instance) || filters.includes(idstr.slice(idstr.lastIndexOf('/') + 1));
}

/** The FULL/START copy of each device section; a section sent again replaces the earlier copy, as on load. */
function deviceSections(c: StreamContents): Map<string, DeviceSection> {
  const m = new Map<string, DeviceSection>();
  for (const e of c.entries)
    if (e.type === 'section' && (e.section.kind === 'full' || e.section.kind === 'start'))
      m.set(key(e.section.idstr, e.section.instanceId), e.section);
  return m;
}

function sideOf(s: DeviceSection): SectionSide {
  return {
    sectionId: s.sectionId,
    version: s.versionId,
    decodedBy: s.decodedBy,
    offset: s.offset,
    size: s.body.length,
  };
}

function diffSections(a: StreamContents, b: StreamContents, filters?: string[]): SectionDiff[] {
  const sa = deviceSections(a);
  const sb = deviceSections(b);
  const keys = [...sa.keys(), ...[...sb.keys()].filter((k) => !sa.has(k))];
  const matches = matcherOf(filters);
  const out: SectionDiff[] = [];
  for (const k of keys) {
    const x = sa.get(k);
    const y = sb.get(k);
    const any = (x ?? y)!;
    if (!matches(any.idstr, any.instanceId)) continue;
    const base = {
      idstr: any.idstr,
      instance: any.instanceId,
      a: x && sideOf(x),
      b: y && sideOf(y),
      subsectionsOnlyInA: [] as string[],
      subsectionsOnlyInB: [] as string[],
      fields: [] as FieldDiff[],
      versionDiffers: false,
    };
    if (!x || !y) {
      out.push({ ...base, status: x ? 'only-a' : 'only-b' });
      continue;
    }
    const versionDiffers = x.versionId !== y.versionId;
    let bytesDiffer: boolean | undefined;
    let fields: FieldDiff[] = [];
    let subsOnlyA: string[] = [];
    let subsOnlyB: string[] = [];
    if (x.value === undefined || y.value === undefined) {
      bytesDiffer = !sameBytes(x.body, y.body);
    } else {
      const d = diffFields(flatten(x.value), flatten(y.value));
      fields = d.fields;
      subsOnlyA = d.subsOnlyA;
      subsOnlyB = d.subsOnlyB;
    }
    const changed =
      versionDiffers ||
      bytesDiffer === true ||
      fields.length + subsOnlyA.length + subsOnlyB.length > 0;
    out.push({
      ...base,
      status: changed ? 'changed' : 'same',
      versionDiffers,
      subsectionsOnlyInA: subsOnlyA,
      subsectionsOnlyInB: subsOnlyB,
      fields,
      ...(bytesDiffer === undefined ? {} : { bytesDiffer }),
    });
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function diffRam(
  a: StreamContents,
  b: StreamContents,
  mode: 'summary' | 'pages',
  ha: PageHashes | undefined,
  hb: PageHashes | undefined,
): RamDiff {
  const ba = new Map(a.ram.blocks.map((x) => [x.name, x]));
  const bb = new Map(b.ram.blocks.map((x) => [x.name, x]));
  const names = [...ba.keys(), ...[...bb.keys()].filter((k) => !ba.has(k))];
  const blocks: RamBlockDiff[] = [];
  let differingPages = mode === 'pages' ? 0 : undefined;
  for (const name of names) {
    const x = ba.get(name);
    const y = bb.get(name);
    const sideInfo = (s: typeof x) =>
      s && { length: '0x' + s.length.toString(16), pages: s.pages, zeroPages: s.zeroPages };
    const d: RamBlockDiff = {
      name,
      status: !x ? 'only-b' : !y ? 'only-a' : x.length !== y.length ? 'size-differs' : 'same-size',
      a: sideInfo(x),
      b: sideInfo(y),
    };
    if (mode === 'pages' && x && y && a.ram.pageSize === b.ram.pageSize) {
      const pageSize = a.ram.pageSize;
      const length = x.length < y.length ? x.length : y.length;
      const pages = comparePages(
        name,
        Math.ceil(Number(length) / pageSize),
        pageSize,
        ha ?? new PageHashes(pageSize),
        hb ?? new PageHashes(pageSize),
      );
      d.differingPages = pages.count;
      d.ranges = pages.ranges;
      d.uncomparedPages = pages.uncompared;
      differingPages! += pages.count;
    }
    blocks.push(d);
  }
  return {
    mode,
    pageSizeA: a.ram.pageSize,
    pageSizeB: b.ram.pageSize,
    blocks,
    differingPages,
  };
}

function comparePages(
  block: string,
  pageCount: number,
  pageSize: number,
  ha: PageHashes,
  hb: PageHashes,
): { count: number; ranges: PageRange[]; uncompared: number } {
  const chunks = [...new Set([...ha.chunkIndices(block), ...hb.chunkIndices(block)])].sort(
    (p, q) => p - q,
  );
  const ranges: PageRange[] = [];
  let count = 0;
  let uncompared = 0;
  let runStart = -1;
  let runEnd = -1;
  const close = () => {
    if (runStart < 0) return;
    ranges.push({
      start: '0x' + (runStart * pageSize).toString(16),
      end: '0x' + (runEnd * pageSize).toString(16),
      pages: runEnd - runStart,
    });
    runStart = -1;
  };
  for (const ci of chunks) {
    const end = Math.min(pageCount, (ci + 1) * PAGES_PER_CHUNK);
    for (let p = ci * PAGES_PER_CHUNK; p < end; p++) {
      const x = ha.page(block, p);
      const y = hb.page(block, p);
      if (!x.known || !y.known) uncompared++;
      const differs = x.known && y.known && (x.h1 !== y.h1 || x.h2 !== y.h2);
      if (differs) {
        count++;
        if (runStart >= 0 && runEnd === p) runEnd = p + 1;
        else {
          close();
          runStart = p;
          runEnd = p + 1;
        }
      }
    }
  }
  close();
  return { count, ranges, uncompared };
}
