import type { StreamContents, TopLevelEntry } from '../stream/collect';
import type { DeviceSection } from '../stream/section';
import { COMMAND_NAMES } from '../stream/constants';
import { ramRecordFlagsName } from '../stream/ram';
import type { DescStruct, DescValue } from '../stream/vmdesc-value';
import type { SectionView } from './section-view';
import { sectionStruct } from './section-struct';
import { elementValue, structParts, type ScalarGroup } from './field-groups';
import { hexOf } from './text-out';
import { OutBuffer, writeHex } from './out-buffer';

/**
 * `--format json`: the stream's structure with what people look for: section ids, offsets and
 * sizes, which decoder read each section, every field with its type, offset and size, the
 * subsections that were sent, and a RAM summary per block.
 *
 * One line per field (compact, `"hex"` only for values of 10 and more): an array of scalars is one field whose `value` is the list of element
 * values (`offset` of the first element, `size` of the whole array, `count` elements), so the
 * output stays the size of analyze-migration.py's. Catalog-decoded sections have the same layout
 * as description-decoded ones. Written straight into one buffer, no object per field.
 */
/** `views` add a platform's own reading of a section (the x86 cpu's nested state) under their key. */
export function analysisJson(
  c: StreamContents,
  file?: string,
  views: readonly SectionView[] = [],
): string {
  return analysisJsonBytes(c, file, views).toString('utf8');
}

export function analysisJsonBytes(
  c: StreamContents,
  file?: string,
  views: readonly SectionView[] = [],
): Buffer {
  let size = 1 << 16;
  for (const e of c.entries) if (e.type === 'section') size += e.section.body.length * 3;
  const out = new OutBuffer(size);
  writeAnalysisJson(c, out, file, views);
  return out.bytes();
}

/** The same document as an object (for callers that want to look things up). */
export function analysisObject(
  c: StreamContents,
  file?: string,
  views: readonly SectionView[] = [],
): Record<string, unknown> {
  return JSON.parse(analysisJson(c, file, views)) as Record<string, unknown>;
}

const hex = (n: number | bigint) => '0x' + n.toString(16);
const str = (s: string) => JSON.stringify(s);

/** An object on one line, `{"key": value, ...}`, spaced like the field lines. */
function oneLine(o: Record<string, unknown>): string {
  let s = '';
  for (const k in o)
    if (o[k] !== undefined) s += `${s ? ', ' : ''}${str(k)}: ${JSON.stringify(o[k])}`;
  return `{${s}}`;
}

export function writeAnalysisJson(
  c: StreamContents,
  out: OutBuffer,
  file?: string,
  views: readonly SectionView[] = [],
): void {
  const vmdescDevices = c.vmdesc?.desc?.devices.length;
  const head: Record<string, unknown> = {
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
  };
  const tail: Record<string, unknown> = {
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
  out.text('{\n');
  for (const [k, v] of Object.entries(head))
    if (v !== undefined) out.utf8(`  ${str(k)}: ${JSON.stringify(v)},\n`);
  out.text('  "sections": [');
  c.entries.forEach((e, i) => {
    out.text(i ? ',\n    ' : '\n    ');
    writeEntry(e, out, views);
  });
  out.text(c.entries.length ? '\n  ],\n' : '],\n');
  const keys = Object.keys(tail);
  keys.forEach((k, i) =>
    out.utf8(`  ${str(k)}: ${JSON.stringify(tail[k])}${i < keys.length - 1 ? ',' : ''}\n`),
  );
  out.text('}\n');
}

function writeEntry(e: TopLevelEntry, out: OutBuffer, views: readonly SectionView[]): void {
  switch (e.type) {
    case 'ram-section':
      out.utf8(
        oneLine({
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
        }),
      );
      return;
    case 'section':
      return writeSection(e.section, out, views);
    case 'command':
      out.utf8(
        oneLine({
          type: 'command',
          command: COMMAND_NAMES[e.cmd] ?? hex(e.cmd),
          offset: e.offset,
          length: e.payload.length,
          payload: hexOf(e.payload),
          ...(e.packagedSize !== undefined && { packagedSize: e.packagedSize }),
          ...(e.depth && { depth: e.depth }),
        }),
      );
      return;
    case 'trailing':
      out.utf8(
        oneLine({ type: 'trailing', offset: e.offset, size: e.data.length, depth: e.depth }),
      );
  }
}

function writeSection(s: DeviceSection, out: OutBuffer, views: readonly SectionView[]): void {
  const head = oneLine({
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
    ...(s.lacks && { lacks: s.lacks }),
    ...(s.depth && { depth: s.depth }),
  });
  out.utf8(head.slice(0, -1));
  // A section the catalog lacks is shown as the bytes it is, whatever a codec made of it.
  const struct = s.lacks ? undefined : sectionStruct(s);
  if (struct) {
    out.text(', "vmsd": ');
    writeNullableString(out, struct.vmsdName);
  }
  for (const v of views) {
    const j = v.json(s);
    if (j !== undefined)
      out.utf8(`,\n      ${str(v.key)}: ${JSON.stringify(j, null, 2).replace(/\n/g, '\n      ')}`);
  }
  if (struct) {
    out.text(',\n      "state":');
    writeStruct(struct, out, '      ');
  } else if (s.value !== undefined && !s.lacks)
    out.utf8(`, "state": ${JSON.stringify(plainJson(s.value))}`);
  else {
    out.text(', "data": "');
    writeHex(out, s.body, 0, Math.min(4096, s.body.length), 0x20);
    out.text(s.body.length > 4096 ? ' ..."' : '"');
  }
  out.byte(0x7d);
}

/** `{"fields":[...],"subsections":[...]}`, one field a line. */
function writeStruct(s: DescStruct, out: OutBuffer, ind: string): void {
  out.byte(0x7b);
  writeStructBody(s, out, ind);
  out.byte(0x7d);
}

/** JSON.stringify(s ?? null). */
function writeNullableString(out: OutBuffer, s: string | undefined): void {
  if (s === undefined) out.text('null');
  else out.jsonString(s);
}

/** `"fields":[...],"subsections":[...]` (each subsection with its own fields). */
function writeStructBody(s: DescStruct, out: OutBuffer, ind: string): void {
  const inner = ind + '  ';
  const depth = inner.length;
  out.text('"fields":[');
  const { groups, subsections } = structParts(s);
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (i) out.byte(0x2c);
    out.newline(depth);
    out.text('{"name":');
    out.jsonString(g.name);
    if (g.kind === 'array') {
      const n = g.count;
      out.text(',"type":');
      out.jsonString(g.type);
      out.text(',"offset":');
      out.int(g.offset);
      out.text(',"size":');
      out.int(n * g.size);
      out.text(',"count":');
      out.int(n);
      out.text(',"value":[');
      writeScalarList(g, out);
      out.text(']}');
    } else {
      if (g.index !== undefined) {
        out.text(',"index":');
        out.int(g.index);
      }
      writeValue(g.value, out, inner);
      out.byte(0x7d);
    }
  }
  if (groups.length) out.newline(ind.length);
  out.text('],"subsections":[');
  for (let i = 0; i < subsections.length; i++) {
    const sub = subsections[i];
    if (i) out.byte(0x2c);
    out.newline(depth);
    out.text('{"name":');
    out.jsonString(sub.name);
    out.text(',"version":');
    out.int(sub.version);
    out.text(',"offset":');
    out.int(sub.offset);
    out.text(', ');
    writeStructBody(sub.body, out, inner);
    out.byte(0x7d);
  }
  if (subsections.length) out.newline(ind.length);
  out.byte(0x5d);
}

/** 2 ** (8 * size) for the sizes read as numbers (a power computed per call was the hot spot). */
const WRAP = [1, 2 ** 8, 2 ** 16, 2 ** 24, 2 ** 32, 2 ** 40, 2 ** 48];

/** The elements of a scalar group, comma-separated, each as numberJson writes it. */
function writeScalarList(g: ScalarGroup, out: OutBuffer): void {
  const n = g.count;
  const d = g.data;
  if (g.scalar === 'bool') {
    for (let k = 0; k < n; k++) {
      if (k) out.byte(0x2c);
      out.text(d[k] !== 0 ? 'true' : 'false');
    }
    return;
  }
  const size = g.size;
  if (size <= 6) {
    // Read in place (the bulk of a device's registers): no call per element.
    const wrap = WRAP[size];
    const signed = g.signed;
    for (let k = 0, p = 0; k < n; k++, p += size) {
      if (k) out.byte(0x2c);
      let v = 0;
      for (let i = 0; i < size; i++) v = v * 256 + d[p + i];
      if (signed && d[p] & 0x80) v -= wrap;
      out.int(v);
    }
    return;
  }
  for (let k = 0; k < n; k++) {
    if (k) out.byte(0x2c);
    if (size === 8) {
      // Two 32-bit halves: exact whenever the value is a safe integer, the only case printed so.
      const p = k * 8;
      let hi = ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;
      const lo = ((d[p + 4] << 24) | (d[p + 5] << 16) | (d[p + 6] << 8) | d[p + 7]) >>> 0;
      if (g.signed && hi >= 0x80000000) hi -= 0x100000000;
      const v = hi * 0x100000000 + lo;
      if (Number.isSafeInteger(v)) out.int(v);
      else out.text(numberJson(elementValue(g, k)));
    } else out.text(numberJson(elementValue(g, k)));
  }
}

/** An integer as JSON: a number when it is exact as one, else its decimal text in quotes. */
function numberJson(v: number | bigint): string {
  if (typeof v === 'number') return String(v);
  const n = Number(v);
  return Number.isSafeInteger(n) ? String(n) : `"${v}"`;
}

function writeValue(v: DescValue, out: OutBuffer, ind: string): void {
  out.text(',"type":');
  out.jsonString(v.type);
  out.text(',"offset":');
  out.int(v.offset);
  out.text(',"size":');
  out.int(v.size);
  switch (v.kind) {
    case 'int':
      out.text(',"value":');
      out.text(numberJson(v.value));
      // The hex form only where it says more than the decimal one.
      if (!(v.value >= 0n && v.value < 10n)) {
        out.text(',"hex":"0x');
        out.text(BigInt.asUintN(v.size * 8, v.value).toString(16));
        out.byte(0x22);
      }
      return;
    case 'bool':
      out.text(v.byte !== 0 ? ',"value":true' : ',"value":false');
      if (v.byte > 1) {
        out.text(',"byte":');
        out.int(v.byte);
      }
      return;
    case 'bytes':
      out.text(',"value":"');
      writeHex(out, v.data, 0, v.data.length, 0x20);
      out.byte(0x22);
      if (v.inner) {
        out.text(',"decoded":');
        writeStruct(v.inner, out, ind);
      }
      return;
    case 'nullptr':
      out.text(',"value":null');
      return;
    case 'capability':
      out.text(',"value":');
      out.jsonString(v.name);
      return;
    case 'struct':
      out.text(',"vmsd":');
      writeNullableString(out, v.vmsdName);
      out.text(', ');
      writeStructBody(v, out, ind);
  }
}

function uuidString(u: Uint8Array): string {
  const h = hexOf(u, '');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function plainJson(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x) =>
      typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? hexOf(x) : x,
    ),
  );
}
