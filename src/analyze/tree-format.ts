import type { StreamContents } from '../stream/collect';
import { COMMAND_NAMES } from '../stream/constants';
import { ramRecordFlagsName } from '../stream/ram';
import type { DeviceSection } from '../stream/section';
import type { DescStruct, DescValue } from '../stream/vmdesc-value';
import type { SectionView } from './section-view';
import { sectionStruct } from './section-struct';
import { RAW_NESTED_PAGE, elementValue, structParts, type ScalarGroup } from './field-groups';
import { TextOut, hex2, hexOf } from './text-out';

export interface TreeOptions {
  /** A platform's own readings of sections (the x86 cpu's nested state), shown before the fields. */
  views?: readonly SectionView[];
  /** Print the raw vmcs12 / vmcb12 pages too (by default only their decoded view is shown). */
  raw?: boolean;
}

const h = (n: number) => '0x' + n.toString(16);

/**
 * `--format tree`: a readable outline, one line per record and field, offsets in hex. Long
 * values fold: arrays of numbers as runs (`0x0 ×13`), byte arrays and buffers as a hexdump with
 * zero runs collapsed; a cpu's KVM nested state is shown decoded by field name first, its raw
 * pages only with `raw`. Catalog-decoded sections print as description-decoded ones.
 */
export function analysisTree(c: StreamContents, file?: string, o: TreeOptions = {}): string {
  return analysisTreeBytes(c, file, o).toString('utf8');
}

export function analysisTreeBytes(c: StreamContents, file?: string, o: TreeOptions = {}): Buffer {
  const out = new TextOut();
  const line = (s: string) => out.write(s + '\n');
  line(`${file ?? '<input>'}: QEMU migration stream v${c.header.version}, ${c.walk.size} bytes`);
  if (c.configuration) {
    const cfg = c.configuration;
    const extra = [
      cfg.targetPageBits !== undefined ? `target-page-bits ${cfg.targetPageBits}` : '',
      cfg.capabilities ? `capabilities ${cfg.capabilities.join(',') || '(none)'}` : '',
      cfg.uuid ? `uuid ${hexOf(cfg.uuid, '')}` : '',
    ].filter(Boolean);
    line(
      `@${h(cfg.offset)} configuration: machine ${cfg.machineType}${extra.length ? `; ${extra.join('; ')}` : ''}`,
    );
  } else line('(no configuration section: machine type 2.3 or older)');
  for (const e of c.entries) {
    const ind = '  '.repeat(e.type === 'section' ? e.section.depth : e.depth);
    if (e.type === 'ram-section') {
      const recs = [...e.recordsByFlags].map(([f, n]) => `${ramRecordFlagsName(f)}×${n}`).join(' ');
      line(
        `${ind}@${h(e.offset)} [${e.sectionId}] ${e.kind.toUpperCase()} ${e.idstr}#${e.instanceId} v${e.versionId}: ${e.size} bytes; ${recs}${e.footer ? '' : ' (no footer)'}`,
      );
      if (e.kind === 'start')
        for (const b of c.ram.blocks)
          line(
            `${ind}    block ${b.name}: ${h(Number(b.length))} bytes; zero pages ${b.zeroPages}, pages ${b.pages}${b.xbzrlePages ? `, xbzrle ${b.xbzrlePages}` : ''}${b.compressedPages ? `, compressed ${b.compressedPages}` : ''}`,
          );
    } else if (e.type === 'section') sectionLines(e.section, ind, out, o);
    else if (e.type === 'command')
      line(
        `${ind}@${h(e.offset)} COMMAND ${COMMAND_NAMES[e.cmd] ?? e.cmd}${e.payload.length ? ` ${hexOf(e.payload)}` : ''}${e.packagedSize !== undefined ? ` (${e.packagedSize} bytes of nested sections follow)` : ''}`,
      );
    else line(`${ind}@${h(e.offset)} ${e.data.length} trailing bytes inside the package`);
  }
  if (c.eof) line(`@${h(c.eof.offset)} EOF; ${c.footers} section footers`);
  if (c.vmdesc)
    line(
      `@${h(c.vmdesc.offset)} VM description: ${c.vmdesc.json.length} bytes of JSON${c.vmdesc.desc ? `, ${c.vmdesc.desc.devices.length} devices` : ` (unusable: ${c.vmdesc.error})`}`,
    );
  else line('(no VM description after EOF)');
  if (c.trailing)
    line(`@${h(c.trailing.offset)} ${c.trailing.data.length} bytes after the end of the stream`);
  return out.bytes();
}

function sectionLines(s: DeviceSection, ind: string, out: TextOut, o: TreeOptions): void {
  // A section the catalog lacks is shown as the bytes it is, whatever a codec made of it.
  const struct = s.lacks ? undefined : sectionStruct(s);
  const vmsd =
    struct?.vmsdName && struct.vmsdName !== s.idstr && struct.vmsdName !== s.idstr.split('/').pop()
      ? ` (${struct.vmsdName})`
      : '';
  out.write(
    `${ind}@${h(s.offset)} [${s.sectionId}] ${s.kind.toUpperCase()} ${s.idstr}#${s.instanceId}${vmsd} v${s.versionId}: ${s.body.length} bytes, by ${s.decodedBy}${s.footer ? '' : ' (no footer)'}\n`,
  );
  if (s.lacks) out.write(`${ind}    not decoded: ${s.lacks.reason}\n`);
  let viewed = false;
  for (const v of o.views ?? []) {
    const lines = v.lines(s, ind + '    ');
    viewed ||= lines.length > 0;
    for (const l of lines) out.write(l + '\n');
  }
  if (struct) structLines(struct, ind + '    ', out, o, viewed);
  else if ((s.value === undefined || s.lacks) && s.body.length)
    bytesLines('body', s.body, ind + '    ', out);
}

/** Collects a few lines in a string (to compare struct array elements). */
class StringOut {
  s = '';
  write(x: string): void {
    this.s += x;
  }
}

type Out = Pick<TextOut, 'write'>;

function structLines(s: DescStruct, ind: string, out: Out, o: TreeOptions, nested: boolean): void {
  const { groups, subsections } = structParts(s);
  const subs = new Map(subsections.map((x) => [x.body, x]));
  for (let gi = 0; gi < groups.length; gi++) {
    const g = groups[gi];
    if (g.kind === 'one' && g.index !== undefined && g.value.kind === 'struct') {
      // A struct array: elements that print the same as the one before are folded into it.
      const body = (v: DescStruct) => {
        const w = new StringOut();
        structLines(v, ind + '  ', w, o, nested);
        return w.s;
      };
      const text = body(g.value);
      let gj = gi + 1;
      for (; gj < groups.length; gj++) {
        const n = groups[gj];
        if (n.kind !== 'one' || n.name !== g.name || n.value.kind !== 'struct') break;
        if (body(n.value) !== text) break;
      }
      const last = (groups[gj - 1] as { index?: number }).index;
      out.write(
        `${ind}${g.name}[${g.index}${gj - gi > 1 ? `..${last}` : ''}]:${gj - gi > 1 ? ` (${gj - gi} alike)` : ''}\n${text}`,
      );
      gi = gj - 1;
      continue;
    }
    if (g.kind === 'array') {
      const n = g.count;
      if (nested && !o.raw && RAW_NESTED_PAGE.test(g.name)) {
        out.write(
          `${ind}${g.name}[${n}]: @${h(g.offset)}, ${n * g.size} bytes, shown decoded above (--raw prints them)\n`,
        );
      } else if (g.size === 1 && g.scalar === 'int' && n > 16)
        bytesLines(`${g.name}[${n}]`, g.data, ind, out);
      else runLines(`${g.name}[${n}]`, g, ind, out);
      continue;
    }
    const v = g.value;
    const name = g.index !== undefined ? `${g.name}[${g.index}]` : g.name;
    if (v.kind === 'struct') {
      const sub = subs.get(v);
      out.write(`${ind}${name}${sub ? ` (subsection v${sub.version})` : ''}:\n`);
      structLines(v, ind + '  ', out, o, nested);
    } else if (v.kind === 'bytes') {
      if (v.inner) {
        out.write(`${ind}${name}: ${leaf(v)}\n`);
        structLines(v.inner, ind + '  ', out, o, nested);
      } else bytesLines(name, v.data, ind, out);
    } else out.write(`${ind}${name} = ${leaf(v)}\n`);
  }
  for (const sub of subsections) {
    out.write(`${ind}${sub.name} (subsection v${sub.version}):\n`);
    structLines(sub.body, ind + '  ', out, o, nested);
  }
}

/** `name[n] = 0x0 ×3, 0x5, 0x0 ×12`; more than 16 runs continue on lines of 8, each with its index. */
function runLines(name: string, g: ScalarGroup, ind: string, out: Out): void {
  const runs: string[] = [];
  const starts: number[] = [];
  const n = g.count;
  for (let i = 0; i < n;) {
    const text = elementLeaf(g, i);
    let j = i + 1;
    while (j < n && sameElement(g, i, j)) j++;
    starts.push(i);
    runs.push(j - i > 2 ? `${text} ×${j - i}` : j - i === 2 ? `${text}, ${text}` : text);
    i = j;
  }
  if (runs.length <= 16) {
    out.write(`${ind}${name} = ${runs.join(', ')}\n`);
    return;
  }
  out.write(`${ind}${name}:\n`);
  for (let i = 0; i < runs.length; i += 8)
    out.write(`${ind}  [${starts[i]}] ${runs.slice(i, i + 8).join(', ')}\n`);
}

/**
 * Bytes: inline when short, `N zero bytes` when all zero, else a hexdump (offsets within the
 * value) whose all-zero lines collapse into one `zero` line per run.
 */
function bytesLines(name: string, data: Uint8Array, ind: string, out: Out): void {
  const n = data.length;
  let zero = true;
  for (let i = 0; i < n && zero; i++) if (data[i] !== 0) zero = false;
  if (zero && n > 4) {
    out.write(`${ind}${name} = ${n} zero bytes\n`);
    return;
  }
  if (n <= 16) {
    out.write(`${ind}${name} = [${hexOf(data)}]\n`);
    return;
  }
  out.write(`${ind}${name}: ${n} bytes\n`);
  const width = n > 0xffff ? 6 : 4;
  const at = (i: number) => i.toString(16).padStart(width, '0');
  for (let i = 0; i < n;) {
    let z = i;
    while (z < n && data[z] === 0) z++;
    const zeroEnd = z === n ? n : i + Math.floor((z - i) / 16) * 16;
    if (zeroEnd - i >= 32) {
      out.write(`${ind}  ${at(i)}..${at(zeroEnd - 1)}  zero (${zeroEnd - i} bytes)\n`);
      i = zeroEnd;
      continue;
    }
    const end = Math.min(n, i + 16);
    let hexs = '';
    let text = '';
    for (let k = i; k < i + 16; k++) {
      hexs += k < end ? hex2(data[k]) + ' ' : '   ';
      if (k === i + 7) hexs += ' ';
      if (k < end) text += data[k] >= 0x20 && data[k] < 0x7f ? String.fromCharCode(data[k]) : '.';
    }
    out.write(`${ind}  ${at(i)}  ${hexs} |${text}|\n`);
    i = end;
  }
}

/** Elements print alike exactly when their bytes are equal (bools: when both are zero or not). */
function sameElement(g: ScalarGroup, i: number, j: number): boolean {
  const b = g.data;
  if (g.scalar === 'bool') return (b[i] !== 0) === (b[j] !== 0);
  for (let k = 0, p = i * g.size, q = j * g.size; k < g.size; k++)
    if (b[p + k] !== b[q + k]) return false;
  return true;
}

/** leaf() of element k of a scalar group. */
function elementLeaf(g: ScalarGroup, k: number): string {
  if (g.scalar === 'bool') return g.data[k] ? 'true' : 'false';
  const v = elementValue(g, k);
  if (v >= 0) return `0x${v.toString(16)}`;
  const unsigned = typeof v === 'number' ? v + 2 ** (g.size * 8) : BigInt.asUintN(g.size * 8, v);
  return `0x${unsigned.toString(16)} (${v})`;
}

function leaf(v: DescValue): string {
  switch (v.kind) {
    case 'int':
      return v.value < 0n
        ? `0x${BigInt.asUintN(v.size * 8, v.value).toString(16)} (${v.value})`
        : `0x${v.value.toString(16)}`;
    case 'bool':
      return v.byte ? 'true' : 'false';
    case 'bytes':
      return v.data.every((b) => b === 0) && v.size > 4
        ? `${v.size} zero bytes`
        : `[${hexOf(v.data)}]`;
    case 'nullptr':
      return 'NULL';
    case 'capability':
      return v.name;
    case 'struct':
      return '{...}';
  }
}
