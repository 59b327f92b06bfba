import type { StreamContents } from '../stream/collect';
import { COMMAND_NAMES } from '../stream/constants';
import { ramRecordFlagsName } from '../stream/ram';
import type { DescStruct, DescValue } from '../stream/vmdesc-value';
import { groupedEntries, isDescStruct } from '../stream/vmdesc-value';
import { formatInt, hexBytes } from './qemu-format';
import type { SectionView } from './section-view';

/** `--format tree`: a readable outline, one line per record and field, offsets in hex. */
export function analysisTree(
  c: StreamContents,
  file?: string,
  views: readonly SectionView[] = [],
): string {
  const out: string[] = [];
  const h = (n: number) => '0x' + n.toString(16);
  out.push(
    `${file ?? '<input>'}: QEMU migration stream v${c.header.version}, ${c.walk.size} bytes`,
  );
  if (c.configuration) {
    const cfg = c.configuration;
    const extra = [
      cfg.targetPageBits !== undefined ? `target-page-bits ${cfg.targetPageBits}` : '',
      cfg.capabilities ? `capabilities ${cfg.capabilities.join(',') || '(none)'}` : '',
      cfg.uuid ? `uuid ${hexBytes(cfg.uuid).replace(/ /g, '')}` : '',
    ].filter(Boolean);
    out.push(
      `@${h(cfg.offset)} configuration: machine ${cfg.machineType}${extra.length ? `; ${extra.join('; ')}` : ''}`,
    );
  } else out.push('(no configuration section: machine type 2.3 or older)');
  for (const e of c.entries) {
    const ind = '  '.repeat(e.type === 'section' ? e.section.depth : e.depth);
    if (e.type === 'ram-section') {
      const recs = [...e.recordsByFlags].map(([f, n]) => `${ramRecordFlagsName(f)}×${n}`).join(' ');
      out.push(
        `${ind}@${h(e.offset)} [${e.sectionId}] ${e.kind.toUpperCase()} ${e.idstr}#${e.instanceId} v${e.versionId}: ${e.size} bytes; ${recs}${e.footer ? '' : ' (no footer)'}`,
      );
      if (e.kind === 'start')
        for (const b of c.ram.blocks)
          out.push(
            `${ind}    block ${b.name}: ${h(Number(b.length))} bytes; zero pages ${b.zeroPages}, pages ${b.pages}${b.xbzrlePages ? `, xbzrle ${b.xbzrlePages}` : ''}${b.compressedPages ? `, compressed ${b.compressedPages}` : ''}`,
          );
    } else if (e.type === 'section') {
      const s = e.section;
      const vmsd =
        isDescStruct(s.value) && s.value.vmsdName && s.value.vmsdName !== s.idstr
          ? ` (${s.value.vmsdName})`
          : '';
      out.push(
        `${ind}@${h(s.offset)} [${s.sectionId}] ${s.kind.toUpperCase()} ${s.idstr}#${s.instanceId}${vmsd} v${s.versionId}: ${s.body.length} bytes, by ${s.decodedBy}${s.footer ? '' : ' (no footer)'}`,
      );
      if (isDescStruct(s.value)) structLines(s.value, ind + '    ', out);
      for (const v of views) out.push(...v.lines(s, ind + '    '));
    } else if (e.type === 'command') {
      out.push(
        `${ind}@${h(e.offset)} COMMAND ${COMMAND_NAMES[e.cmd] ?? e.cmd}${e.payload.length ? ` ${hexBytes(e.payload)}` : ''}${e.packagedSize !== undefined ? ` (${e.packagedSize} bytes of nested sections follow)` : ''}`,
      );
    } else out.push(`${ind}@${h(e.offset)} ${e.data.length} trailing bytes inside the package`);
  }
  if (c.eof) out.push(`@${h(c.eof.offset)} EOF; ${c.footers} section footers`);
  if (c.vmdesc)
    out.push(
      `@${h(c.vmdesc.offset)} VM description: ${c.vmdesc.json.length} bytes of JSON${c.vmdesc.desc ? `, ${c.vmdesc.desc.devices.length} devices` : ` (unusable: ${c.vmdesc.error})`}`,
    );
  else out.push('(no VM description after EOF)');
  if (c.trailing)
    out.push(
      `@${h(c.trailing.offset)} ${c.trailing.data.length} bytes after the end of the stream`,
    );
  return out.join('\n') + '\n';
}

function structLines(s: DescStruct, ind: string, out: string[]): void {
  for (const [name, v] of groupedEntries(s)) {
    if (Array.isArray(v)) {
      if (v.every((x) => x.kind !== 'struct') && v.length <= 64)
        out.push(`${ind}${name}[${v.length}] = ${v.map(leaf).join(', ')}`);
      else
        v.forEach((x, i) => {
          if (x.kind === 'struct') {
            out.push(`${ind}${name}[${i}]:`);
            structLines(x, ind + '  ', out);
          } else out.push(`${ind}${name}[${i}] = ${leaf(x)}`);
        });
    } else if (v.kind === 'struct') {
      const sub = s.subsections.find((x) => x.body === v);
      out.push(`${ind}${name}${sub ? ` (subsection v${sub.version})` : ''}:`);
      structLines(v, ind + '  ', out);
    } else out.push(`${ind}${name} = ${leaf(v)}`);
  }
}

function leaf(v: DescValue): string {
  switch (v.kind) {
    case 'int':
      return formatInt(v.value, v.size).replace(/^0x0+(?=[0-9a-f])/, '0x');
    case 'bool':
      return v.byte ? 'true' : 'false';
    case 'bytes':
      return v.data.every((b) => b === 0) && v.size > 4
        ? `${v.size} zero bytes`
        : `[${hexBytes(v.data)}]`;
    case 'nullptr':
      return 'NULL';
    case 'capability':
      return v.name;
    case 'struct':
      return '{...}';
  }
}
