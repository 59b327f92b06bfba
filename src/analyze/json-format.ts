import type { StreamContents, TopLevelEntry } from '../stream/collect';
import type { DeviceSection } from '../stream/section';
import { COMMAND_NAMES } from '../stream/constants';
import { ramRecordFlagsName } from '../stream/ram';
import type { DescInt, DescStruct, DescValue } from '../stream/vmdesc-value';
import type { SectionView } from './section-view';
import { sectionStruct } from './section-struct';
import { elementValue, structParts, type ScalarGroup } from './field-groups';
import { TextOut, hexOf } from './text-out';

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
  const out = new TextOut();
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
  out: TextOut,
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
  out.write('{\n');
  for (const [k, v] of Object.entries(head))
    if (v !== undefined) out.write(`  ${str(k)}: ${JSON.stringify(v)},\n`);
  out.write('  "sections": [');
  c.entries.forEach((e, i) => {
    out.write(i ? ',\n    ' : '\n    ');
    writeEntry(e, out, views);
  });
  out.write(c.entries.length ? '\n  ],\n' : '],\n');
  const keys = Object.keys(tail);
  keys.forEach((k, i) =>
    out.write(`  ${str(k)}: ${JSON.stringify(tail[k])}${i < keys.length - 1 ? ',' : ''}\n`),
  );
  out.write('}\n');
}

function writeEntry(e: TopLevelEntry, out: TextOut, views: readonly SectionView[]): void {
  switch (e.type) {
    case 'ram-section':
      out.write(
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
      out.write(
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
      out.write(
        oneLine({ type: 'trailing', offset: e.offset, size: e.data.length, depth: e.depth }),
      );
  }
}

function writeSection(s: DeviceSection, out: TextOut, views: readonly SectionView[]): void {
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
  out.write(head.slice(0, -1));
  // A section the catalog lacks is shown as the bytes it is, whatever a codec made of it.
  const struct = s.lacks ? undefined : sectionStruct(s);
  if (struct) out.write(`, "vmsd": ${JSON.stringify(struct.vmsdName ?? null)}`);
  for (const v of views) {
    const j = v.json(s);
    if (j !== undefined)
      out.write(`,\n      ${str(v.key)}: ${JSON.stringify(j, null, 2).replace(/\n/g, '\n      ')}`);
  }
  if (struct) {
    out.write(',\n      "state":');
    writeStruct(struct, out, '      ');
  } else if (s.value !== undefined && !s.lacks)
    out.write(`, "state": ${JSON.stringify(plainJson(s.value))}`);
  else
    out.write(
      `, "data": ${str(hexOf(s.body, ' ', 0, Math.min(4096, s.body.length)) + (s.body.length > 4096 ? ' ...' : ''))}`,
    );
  out.write('}');
}

/** `{"fields":[...],"subsections":[...]}`, one field a line. */
function writeStruct(s: DescStruct, out: TextOut, ind: string): void {
  out.write('{');
  writeStructBody(s, out, ind);
  out.write('}');
}

/** `"fields":[...],"subsections":[...]` (each subsection with its own fields). */
function writeStructBody(s: DescStruct, out: TextOut, ind: string): void {
  const inner = ind + '  ';
  out.write('"fields":[');
  const { groups, subsections } = structParts(s);
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    out.write(i ? ',\n' + inner : '\n' + inner);
    if (g.kind === 'array') {
      const n = g.count;
      out.write(
        `{"name":${str(g.name)},"type":${str(g.type)},"offset":${g.offset},"size":${n * g.size},"count":${n},"value":[`,
      );
      out.write(scalarList(g) + ']}');
    } else {
      out.write(`{"name":${str(g.name)}`);
      if (g.index !== undefined) out.write(`,"index":${g.index}`);
      writeValue(g.value, out, inner);
      out.write('}');
    }
  }
  out.write(groups.length ? `\n${ind}],"subsections":[` : '],"subsections":[');
  subsections.forEach((sub, i) => {
    out.write(i ? ',\n' + inner : '\n' + inner);
    out.write(`{"name":${str(sub.name)},"version":${sub.version},"offset":${sub.offset}, `);
    writeStructBody(sub.body, out, inner);
    out.write('}');
  });
  out.write(subsections.length ? `\n${ind}]` : ']');
}

/** The elements of a scalar group, comma-separated, each as scalarJson writes it. */
function scalarList(g: ScalarGroup): string {
  const n = g.count;
  let line = '';
  if (g.scalar === 'bool') {
    for (let k = 0; k < n; k++) line += (k ? ',' : '') + (g.data[k] !== 0 ? 'true' : 'false');
    return line;
  }
  for (let k = 0; k < n; k++) line += (k ? ',' : '') + numberJson(elementValue(g, k));
  return line;
}

/** An integer as JSON: a number when it is exact as one, else its decimal text in quotes. */
function numberJson(v: number | bigint): string {
  if (typeof v === 'number') return String(v);
  const n = Number(v);
  return Number.isSafeInteger(n) ? String(n) : `"${v}"`;
}

function scalarJson(v: DescInt): string {
  return numberJson(v.value);
}

function writeValue(v: DescValue, out: TextOut, ind: string): void {
  out.write(`,"type":${str(v.type)},"offset":${v.offset},"size":${v.size}`);
  switch (v.kind) {
    case 'int':
      // The hex form only where it says more than the decimal one.
      out.write(
        v.value >= 0n && v.value < 10n
          ? `,"value":${scalarJson(v)}`
          : `,"value":${scalarJson(v)},"hex":"0x${BigInt.asUintN(v.size * 8, v.value).toString(16)}"`,
      );
      return;
    case 'bool':
      out.write(`,"value":${v.byte !== 0}${v.byte > 1 ? `,"byte":${v.byte}` : ''}`);
      return;
    case 'bytes':
      out.write(`,"value":"${hexOf(v.data)}"`);
      if (v.inner) {
        out.write(',"decoded":');
        writeStruct(v.inner, out, ind);
      }
      return;
    case 'nullptr':
      out.write(',"value":null');
      return;
    case 'capability':
      out.write(`,"value":${str(v.name)}`);
      return;
    case 'struct':
      out.write(`,"vmsd":${JSON.stringify(v.vmsdName ?? null)}, `);
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
