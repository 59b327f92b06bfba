import type { StreamContents, TopLevelEntry } from '../stream/collect';
import type { DeviceSection } from '../stream/section';
import { COMMAND_NAMES } from '../stream/constants';
import { ramRecordFlagsName } from '../stream/ram';
import type { DescStruct, DescValue } from '../stream/vmdesc-value';
import { isDescStruct } from '../stream/vmdesc-value';
import { hexBytes } from './qemu-format';
import type { SectionView } from './section-view';

/**
 * `--format json`: the stream's structure with what people look for: section ids, offsets and
 * sizes, which decoder read each section, every field with its type, offset and size, the
 * subsections that were sent, and a RAM summary per block. Plain JSON (2-space indent).
 */
export function analysisJson(
  c: StreamContents,
  file?: string,
  views: readonly SectionView[] = [],
): string {
  return JSON.stringify(analysisObject(c, file, views), null, 2) + '\n';
}

const hex = (n: number | bigint) => '0x' + n.toString(16);

/** `views` add a platform's own reading of a section (the x86 cpu's nested state) under their key. */
export function analysisObject(
  c: StreamContents,
  file?: string,
  views: readonly SectionView[] = [],
): Record<string, unknown> {
  const vmdescDevices = c.vmdesc?.desc?.devices.length;
  return {
    file,
    size: c.walk.size,
    magic: hex(c.header.magic),
    version: c.header.version,
    configuration: c.configuration
      ? {
          offset: c.configuration.offset,
          size: c.configuration.body.length + 1,
          machineType: c.configuration.machineType,
          ...(c.configuration.targetPageBits !== undefined && {
            targetPageBits: c.configuration.targetPageBits,
          }),
          ...(c.configuration.capabilities && { capabilities: c.configuration.capabilities }),
          ...(c.configuration.uuid && { uuid: uuidString(c.configuration.uuid) }),
          subsections: c.configuration.subsections.map((s) => s.name),
        }
      : null,
    sections: c.entries.map((e) => entryObject(e, views)),
    footers: c.footers,
    eof: c.eof ? { offset: c.eof.offset } : null,
    vmdesc: c.vmdesc
      ? {
          offset: c.vmdesc.offset,
          length: c.vmdesc.json.length,
          ...(c.vmdesc.desc && { pageSize: c.vmdesc.desc.page_size, devices: vmdescDevices }),
          ...(c.vmdesc.error && { error: c.vmdesc.error }),
        }
      : null,
    decodedWith: c.walk.vmdescFrom === 'none' ? 'no vmdesc' : `vmdesc (${c.walk.vmdescFrom})`,
    ram: {
      pageSize: c.ram.pageSize,
      totalBytes: c.ram.totalBytes !== undefined ? hex(c.ram.totalBytes) : null,
      records: c.ram.records,
      recordsByFlags: Object.fromEntries(
        [...c.ram.recordsByFlags].map(([f, n]) => [`${hex(f)} ${ramRecordFlagsName(f)}`, n]),
      ),
      blocks: c.ram.blocks.map((b) => ({
        name: b.name,
        length: hex(b.length),
        ...(b.pageSize !== undefined && { pageSize: hex(b.pageSize) }),
        ...(b.mrAddr !== undefined && { mrAddr: hex(b.mrAddr) }),
        zeroPages: b.zeroPages,
        ...(b.nonZeroFill && { nonZeroFill: b.nonZeroFill }),
        pages: b.pages,
        ...(b.xbzrlePages && { xbzrlePages: b.xbzrlePages }),
        ...(b.compressedPages && { compressedPages: b.compressedPages }),
      })),
    },
    trailing: c.trailing ? { offset: c.trailing.offset, size: c.trailing.data.length } : null,
  };
}

function entryObject(e: TopLevelEntry, views: readonly SectionView[]): Record<string, unknown> {
  switch (e.type) {
    case 'ram-section':
      return {
        type: 'ram',
        kind: e.kind,
        sectionId: e.sectionId,
        idstr: e.idstr,
        instanceId: e.instanceId,
        version: e.versionId,
        offset: e.offset,
        size: e.size,
        footer: e.footer ? e.footer.offset : null,
        ...(e.depth && { depth: e.depth }),
        recordsByFlags: Object.fromEntries([...e.recordsByFlags].map(([f, n]) => [hex(f), n])),
      };
    case 'section': {
      const s = e.section;
      return {
        type: 'device',
        kind: s.kind,
        sectionId: s.sectionId,
        idstr: s.idstr,
        instanceId: s.instanceId,
        version: s.versionId,
        offset: s.offset,
        bodyOffset: s.bodyOffset,
        size: s.body.length,
        footer: s.footer ? s.footer.offset : null,
        decodedBy: s.decodedBy,
        ...(s.depth && { depth: s.depth }),
        ...(isDescStruct(s.value)
          ? { vmsd: s.value.vmsdName ?? null, state: structObject(s.value) }
          : s.value !== undefined
            ? { state: plainJson(s.value) }
            : { data: hexBytes(s.body.subarray(0, 4096)) + (s.body.length > 4096 ? ' ...' : '') }),
        ...viewsOf(s, views),
      };
    }
    case 'command':
      return {
        type: 'command',
        command: COMMAND_NAMES[e.cmd] ?? hex(e.cmd),
        offset: e.offset,
        length: e.payload.length,
        payload: hexBytes(e.payload),
        ...(e.packagedSize !== undefined && { packagedSize: e.packagedSize }),
        ...(e.depth && { depth: e.depth }),
      };
    case 'trailing':
      return { type: 'trailing', offset: e.offset, size: e.data.length, depth: e.depth };
  }
}

function structObject(s: DescStruct): Record<string, unknown> {
  return {
    fields: s.entries.map((e) => ({
      name: e.name,
      ...(e.index !== undefined && { index: e.index }),
      ...valueObject(e.value),
    })),
    subsections: s.subsections.map((sub) => ({
      name: sub.name,
      version: sub.version,
      offset: sub.offset,
      ...structObject(sub.body),
    })),
  };
}

function valueObject(v: DescValue): Record<string, unknown> {
  const base = { type: v.type, offset: v.offset, size: v.size };
  switch (v.kind) {
    case 'int':
      return {
        ...base,
        value: Number.isSafeInteger(Number(v.value)) ? Number(v.value) : v.value.toString(),
        hex: '0x' + BigInt.asUintN(v.size * 8, v.value).toString(16),
      };
    case 'bool':
      return { ...base, value: v.byte !== 0, ...(v.byte > 1 && { byte: v.byte }) };
    case 'bytes':
      return {
        ...base,
        value: hexBytes(v.data),
        ...(v.inner && { decoded: structObject(v.inner) }),
      };
    case 'nullptr':
      return { ...base, value: null };
    case 'capability':
      return { ...base, value: v.name };
    case 'struct':
      return { ...base, vmsd: v.vmsdName ?? null, ...structObject(v) };
  }
}

function uuidString(u: Uint8Array): string {
  const h = hexBytes(u).replace(/ /g, '');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function plainJson(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x) =>
      typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? hexBytes(x) : x,
    ),
  );
}

/** What each view has for this section (e.g. the cpu's KVM nested state), under its key. */
function viewsOf(s: DeviceSection, views: readonly SectionView[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of views) {
    const value = v.json(s);
    if (value !== undefined) out[v.key] = value;
  }
  return out;
}
