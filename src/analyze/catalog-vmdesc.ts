/**
 * Decoding a stream that carries no VM description by the device catalog, the way QEMU's own
 * description would have decoded it: the catalog reads each device section into a state, writes
 * it back (which must give the section's bytes exactly) and says what vmdesc entry QEMU writes
 * for that state; those entries make the VM description QEMU would have appended, which then
 * decodes the stream on the ordinary vmdesc path, so every output format follows from it.
 */
import { ByteReader } from '../bytes/reader';
import type { CatalogOptions } from './analysis-catalog';
import { FILE_MAGIC, SectionType } from '../stream/constants';
import type { StreamContents } from '../stream/collect';
import { qemuJson } from '../stream/generate-framing';
import type { DeviceSection, SectionLack } from '../stream/section';
import type { ChunkSource } from '../stream/source';
import type { Vmdesc, VmdescDevice, VmdescVmsd } from '../stream/vmdesc';

/**
 * How a release writes its VM description. `json`: QEMU's JSONWriter (`{"a": 1}`; 6.x and
 * later); `qjson`: the older migration/qjson.c (`{ "a" : 1 }`; 5.2). `lastIndex`: the last
 * element of an array of structs carries its "index" too (false in 10.0, whose writer leaves
 * it out).
 */
export interface VmdescStyle {
  readonly writer: 'json' | 'qjson';
  readonly lastIndex: boolean;
}

/** The older QJSON spelling: `{ "k" : v, ... }`, `[ a, b ]`. */
function qjson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[ ${v.map(qjson).join(', ')} ]`;
  if (typeof v === 'object') {
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      if (x !== undefined) parts.push(`${JSON.stringify(k)} : ${qjson(x)}`);
    return `{ ${parts.join(', ')} }`;
  }
  return JSON.stringify(v);
}

/** Drops "index" from the last element of each run of indexed fields (the 10.0 writer's output). */
function dropLastIndex(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropLastIndex);
  if (!v || typeof v !== 'object') return v;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = dropLastIndex(x);
  const fields = o.fields as Record<string, unknown>[] | undefined;
  if (Array.isArray(fields))
    o.fields = fields.map((f, i) => {
      const next = fields[i + 1];
      const last =
        typeof f.index === 'number' &&
        f.index > 0 &&
        (!next || next.name !== f.name || next.index !== f.index + 1);
      if (!last) return f;
      const { index: _index, ...rest } = f;
      return rest;
    });
  return o;
}

/** A vmdesc entry as the release writes it (its array-index habit). */
export function styledEntry<T>(entry: T, style: VmdescStyle): T {
  return style.lastIndex ? entry : (dropLastIndex(entry) as T);
}

/** What a section's description is, or why the catalog has none. */
export type SectionDescription =
  { readonly vmdesc: Omit<VmdescDevice, 'name' | 'instance_id'> } | { readonly lacks: string };

/** What the decoding needs of a catalog (src/cli/catalog-wiring.ts provides it from vmstate/). */
export interface DescribingCatalog {
  readonly release: string;
  readonly machineType: string;
  /** Why the release or machine type was assumed, when they were. */
  readonly assumed: readonly string[];
  /** The release writes the configuration section into its VM description. */
  readonly vmdescConfiguration: boolean;
  /** How the release spells the JSON (see VmdescStyle). */
  readonly vmdescStyle: VmdescStyle;
  /** The vmdesc entry of a FULL section the walker decoded with this catalog's resolvers. */
  describe(section: DeviceSection): SectionDescription;
}

export interface LackingSection {
  /** `idstr#instance`. */
  readonly section: string;
  readonly idstr: string;
  readonly instanceId: number;
  /** The section type byte's offset. */
  readonly offset: number;
  readonly reason: string;
}

/** What a section lacking from the catalog's description says about itself in every format. */
export function sectionLack(d: CatalogDescription, l: LackingSection): SectionLack {
  return {
    section: l.section,
    device: l.idstr.slice(l.idstr.lastIndexOf('/') + 1),
    release: d.release,
    machineType: d.machineType,
    reason: l.reason,
  };
}

export interface CatalogDescription {
  readonly release: string;
  readonly machineType: string;
  readonly assumed: readonly string[];
  readonly vmdesc: Vmdesc;
  /** The description as QEMU's JSON writer spells it (the bytes after 0x06 and the be32 length). */
  readonly json: Uint8Array;
  /** FULL sections the catalog could not describe: the description leaves them out. */
  readonly lacking: readonly LackingSection[];
  /** FULL sections it described. */
  readonly described: number;
}

/** The configuration section's vmdesc entry (savevm.c vmstate_configuration), when it has no subsections. */
function configurationVmdesc(contents: StreamContents): VmdescVmsd | undefined {
  const c = contents.configuration;
  if (!c || c.subsections.length) return undefined;
  return {
    vmsd_name: 'configuration',
    version: 1,
    fields: [
      { name: 'len', type: 'uint32', size: 4 },
      { name: 'name', type: 'buffer', size: c.machineType.length },
    ],
  };
}

/** The VM description the catalog gives a decoded stream (walked with its resolvers). */
export function describeByCatalog(
  contents: StreamContents,
  catalog: DescribingCatalog,
): CatalogDescription {
  const devices: VmdescDevice[] = [];
  const lacking: LackingSection[] = [];
  for (const e of contents.entries) {
    if (e.type !== 'section' || e.section.kind !== 'full') continue;
    const s = e.section;
    const d = catalog.describe(s);
    if ('lacks' in d) {
      lacking.push({
        section: `${s.idstr}#${s.instanceId}`,
        idstr: s.idstr,
        instanceId: s.instanceId,
        offset: s.offset,
        reason: d.lacks,
      });
      continue;
    }
    const entry = { name: s.idstr, instance_id: s.instanceId, ...d.vmdesc } as VmdescDevice;
    devices.push(styledEntry(entry, catalog.vmdescStyle));
  }
  const configuration = catalog.vmdescConfiguration ? configurationVmdesc(contents) : undefined;
  const vmdesc: Vmdesc = {
    ...(configuration ? { configuration } : {}),
    page_size: contents.ram.pageSize,
    devices,
  };
  return {
    release: catalog.release,
    machineType: catalog.machineType,
    assumed: catalog.assumed,
    vmdesc,
    json: new TextEncoder().encode(
      catalog.vmdescStyle.writer === 'qjson' ? qjson(vmdesc) : qemuJson(vmdesc),
    ),
    lacking,
    described: devices.length,
  };
}

/** The 0x06 record that appends a description to a stream: type byte, be32 length, JSON. */
export function vmdescRecord(json: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + json.length);
  out[0] = SectionType.VMDESCRIPTION;
  new DataView(out.buffer).setUint32(1, json.length);
  out.set(json, 5);
  return out;
}

/**
 * What a seekable stream's head says about its machine type, read before the walk (resolvers
 * must know it before the first device section): the configuration section's machine type, or
 * that the stream has none (`withoutConfiguration`: hw_compat_2_3 turns send-configuration off,
 * so it was written on a machine type of 2.3 or older); nothing when the input is not seekable,
 * cannot be read (the walk then reports the read error where it happens) or its head is not a
 * stream's.
 */
export async function peekStreamHead(
  source: ChunkSource,
): Promise<Pick<CatalogOptions, 'machineType' | 'withoutConfiguration'>> {
  if (!source.readAt) return {};
  let head: Uint8Array;
  try {
    head = await source.readAt(0, 8 + 1 + 4 + 256);
  } catch {
    return {};
  }
  if (head.length < 9) return {};
  const r = new ByteReader(head, 0);
  if (r.u32() !== FILE_MAGIC) return {};
  r.u32();
  if (r.u8() !== SectionType.CONFIGURATION) return { withoutConfiguration: true };
  if (head.length < 13) return {};
  const len = r.u32();
  if (len > head.length - 13) return {};
  return { machineType: String.fromCharCode(...r.bytesView(len)) };
}

/** The machine type in a seekable stream's configuration section (see peekStreamHead). */
export async function peekMachineType(source: ChunkSource): Promise<string | undefined> {
  return (await peekStreamHead(source)).machineType;
}

/** One line per assumption and lacking device, for stderr and the formats' notes. */
export function describeNotes(d: CatalogDescription): string[] {
  const lines = [
    `decoded by the ${d.release} device catalog on machine type ${d.machineType} (the stream carries no VM description)`,
    ...d.assumed,
  ];
  for (const l of d.lacking) lines.push(`${l.section} @0x${l.offset.toString(16)}: ${l.reason}`);
  return lines;
}
