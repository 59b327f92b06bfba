import type { FieldDiff, SectionDiff, SectionSide, StreamDiff } from './types';

/** `vmstate diff --format json`: the result as is (every value is already a string or number). */
export function diffJson(d: StreamDiff): string {
  return JSON.stringify(d, null, 2) + '\n';
}

/** One line saying what differs, counts first: the first thing `vmstate diff` prints. */
export function summaryLine(d: StreamDiff): string {
  const s = d.summary;
  const parts = [
    `${s.onlyInA} section(s) only in A`,
    `${s.onlyInB} only in B`,
    `${s.changed} changed`,
    `${s.same} same`,
  ];
  if (d.ram) parts.push(`${s.ramBlocksDiffer} RAM block(s) differ`);
  if (s.pagesDiffer !== undefined) parts.push(`${s.pagesDiffer} page(s) differ`);
  if (s.configurationDiffers) parts.push('configuration differs');
  return `${s.identical ? 'same' : 'different'}: ${parts.join(', ')}`;
}

const sideText = (s: SectionSide) => `section ${s.sectionId} v${s.version}, by ${s.decodedBy}`;

function fieldLine(f: FieldDiff): string {
  const type =
    f.typeA && f.typeB && f.typeA !== f.typeB ? `${f.typeA} -> ${f.typeB}` : (f.typeA ?? f.typeB);
  const t = type ? ` (${type})` : '';
  switch (f.change) {
    case 'only-a':
      return `${f.path}${t}: only in A = ${f.a}`;
    case 'only-b':
      return `${f.path}${t}: only in B = ${f.b}`;
    default: {
      const where = f.byteRanges
        ? ` bytes ${f.byteRanges.map(([s, e]) => (e - s === 1 ? `${s}` : `${s}..${e - 1}`)).join(',')}`
        : '';
      return `${f.path}${t}${where}: ${f.a} -> ${f.b}`;
    }
  }
}

/** Array elements that differ, grouped: `env.xmm_regs[1,3]` says which indices before the details. */
function indexGroups(fields: FieldDiff[]): string[] {
  const by = new Map<string, number[]>();
  for (const f of fields)
    if (f.index !== undefined) by.set(f.field, [...(by.get(f.field) ?? []), f.index]);
  return [...by]
    .filter(([, ix]) => ix.length > 1)
    .map(([field, ix]) => `${field}: indices ${[...new Set(ix)].join(',')} differ`);
}

function sectionLines(s: SectionDiff, out: string[]): void {
  const name = `${s.idstr}#${s.instance}`;
  if (s.status === 'only-a') return void out.push(`only in A: ${name} (${sideText(s.a!)})`);
  if (s.status === 'only-b') return void out.push(`only in B: ${name} (${sideText(s.b!)})`);
  if (s.status === 'same') return;
  out.push(`changed: ${name} (A: ${sideText(s.a!)}; B: ${sideText(s.b!)})`);
  if (s.versionDiffers) out.push(`    version ${s.a!.version} -> ${s.b!.version}`);
  if (s.subsectionsOnlyInA.length)
    out.push(`    subsections only in A: ${s.subsectionsOnlyInA.join(', ')}`);
  if (s.subsectionsOnlyInB.length)
    out.push(`    subsections only in B: ${s.subsectionsOnlyInB.join(', ')}`);
  if (s.bytesDiffer) out.push(`    body bytes differ (${s.a!.size} -> ${s.b!.size} bytes)`);
  for (const g of indexGroups(s.fields)) out.push(`    ${g}`);
  for (const f of s.fields) out.push(`    ${fieldLine(f)}`);
}

/** `vmstate diff --format tree`: the summary, then only what differs. */
export function diffTree(d: StreamDiff): string {
  const out: string[] = [];
  out.push(`vmstate diff ${d.a.name} ${d.b.name}`);
  out.push(summaryLine(d));
  out.push(
    `A: ${d.a.size} bytes, machine ${d.a.machineType ?? '(none)'}, description ${d.a.vmdesc}; B: ${d.b.size} bytes, machine ${d.b.machineType ?? '(none)'}, description ${d.b.vmdesc}`,
  );
  for (const f of d.configuration) out.push(`configuration ${fieldLine(f)}`);
  for (const s of d.sections) sectionLines(s, out);
  if (d.ram) {
    if (d.ram.pageSizeA !== d.ram.pageSizeB)
      out.push(`RAM: page size ${d.ram.pageSizeA} -> ${d.ram.pageSizeB}`);
    for (const b of d.ram.blocks) {
      if (b.status === 'only-a') out.push(`RAM block only in A: ${b.name} (${b.a!.length} bytes)`);
      else if (b.status === 'only-b')
        out.push(`RAM block only in B: ${b.name} (${b.b!.length} bytes)`);
      else if (b.status === 'size-differs')
        out.push(`RAM block ${b.name}: size ${b.a!.length} -> ${b.b!.length}`);
      if (b.differingPages) {
        const shown = b.ranges!.slice(0, 20).map((r) => `${r.start}-${r.end} (${r.pages})`);
        const more = b.ranges!.length > 20 ? `, ... ${b.ranges!.length - 20} more range(s)` : '';
        out.push(
          `RAM block ${b.name}: ${b.differingPages} page(s) differ: ${shown.join(', ')}${more}`,
        );
      }
      if (b.uncomparedPages)
        out.push(`RAM block ${b.name}: ${b.uncomparedPages} XBZRLE page(s) not compared`);
    }
  }
  return out.join('\n') + '\n';
}
