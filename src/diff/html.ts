/**
 * The diff as one self-contained HTML page (inline CSS, no scripts, no external resources), in
 * the style of the compat heatmap: a strip of tiles, one per section, coloured by what differs
 * (green same, amber changed, red in one stream only), then the RAM blocks and each changed
 * section's fields. All HTML of `vmstate diff` is here.
 */
import { summaryLine } from './format';
import type { FieldDiff, SectionDiff, StreamDiff } from './types';

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const COLOURS: Record<SectionDiff['status'], string> = {
  same: 'rgb(40, 170, 80)',
  changed: 'rgb(230, 160, 40)',
  'only-a': 'rgb(200, 40, 40)',
  'only-b': 'rgb(200, 40, 40)',
};

export interface DiffHtmlMeta {
  readonly title: string;
  readonly command: string;
}

const sectionName = (s: SectionDiff) => `${s.idstr}#${s.instance}`;
const anchor = (s: SectionDiff) => 's-' + sectionName(s).replace(/[^A-Za-z0-9_-]/g, '_');

function tile(s: SectionDiff): string {
  const label =
    s.status === 'changed' ? `${s.fields.length} field(s)` : s.status.replace('-', ' in ');
  const link = s.status === 'same' ? '' : ` href="#${anchor(s)}"`;
  return `<a class="tile" data-status="${s.status}" data-section="${esc(sectionName(s))}" style="background: ${COLOURS[s.status]}"${link} title="${esc(sectionName(s))}: ${esc(s.status)}">${esc(sectionName(s))}<small>${esc(label)}</small></a>`;
}

function fieldRow(f: FieldDiff): string {
  const type =
    f.typeA === f.typeB || !f.typeB ? (f.typeA ?? f.typeB ?? '') : `${f.typeA} → ${f.typeB}`;
  const bytes = f.byteRanges
    ? f.byteRanges.map(([s, e]) => (e - s === 1 ? `${s}` : `${s}..${e - 1}`)).join(', ')
    : f.index !== undefined
      ? `index ${f.index}`
      : '';
  return `<tr data-change="${f.change}"><td><code>${esc(f.path)}</code></td><td>${esc(type)}</td><td>${esc(bytes)}</td><td><code>${esc(f.a ?? '—')}</code></td><td><code>${esc(f.b ?? '—')}</code></td></tr>`;
}

function sectionDetail(s: SectionDiff): string {
  const side = (x: SectionDiff['a']) =>
    x ? `section ${x.sectionId}, v${x.version}, ${x.size} bytes, by ${esc(x.decodedBy)}` : 'absent';
  const notes: string[] = [];
  if (s.versionDiffers) notes.push(`version ${s.a!.version} → ${s.b!.version}`);
  if (s.subsectionsOnlyInA.length)
    notes.push(
      `subsections only in A: ${s.subsectionsOnlyInA.map((x) => `<code>${esc(x)}</code>`).join(', ')}`,
    );
  if (s.subsectionsOnlyInB.length)
    notes.push(
      `subsections only in B: ${s.subsectionsOnlyInB.map((x) => `<code>${esc(x)}</code>`).join(', ')}`,
    );
  if (s.bytesDiffer) notes.push('bytes differ (not decoded field by field)');
  const table = s.fields.length
    ? `<table class="fields"><thead><tr><th>field</th><th>type</th><th>where</th><th>A</th><th>B</th></tr></thead><tbody>\n${s.fields.map(fieldRow).join('\n')}\n</tbody></table>`
    : '';
  return `<section class="section" id="${anchor(s)}" data-section="${esc(sectionName(s))}" data-status="${s.status}" style="border-left-color: ${COLOURS[s.status]}">
<h3>${esc(sectionName(s))}: ${esc(s.status)}</h3>
<p>A: ${side(s.a)}; B: ${side(s.b)}</p>
${notes.map((n) => `<p>${n}</p>`).join('\n')}
${table}
</section>`;
}

function ramTable(d: StreamDiff): string {
  if (!d.ram) return '<p>RAM not compared (<code>--ram none</code>).</p>';
  const rows = d.ram.blocks.map((b) => {
    const pages =
      b.differingPages === undefined
        ? ''
        : b.differingPages === 0
          ? '0'
          : `${b.differingPages}: ${b
              .ranges!.slice(0, 50)
              .map((r) => `${r.start}–${r.end} (${r.pages})`)
              .join(', ')}${b.ranges!.length > 50 ? ', …' : ''}`;
    const colour =
      b.status === 'same-size' && !b.differingPages
        ? COLOURS.same
        : b.status === 'same-size'
          ? COLOURS.changed
          : COLOURS['only-a'];
    return `<tr data-block="${esc(b.name)}" data-status="${b.status}"><td style="border-left: 6px solid ${colour}"><code>${esc(b.name)}</code></td><td>${esc(b.a?.length ?? '—')}</td><td>${esc(b.b?.length ?? '—')}</td><td>${esc(pages)}</td></tr>`;
  });
  return `<table class="ram"><thead><tr><th>block</th><th>A size</th><th>B size</th><th>differing pages</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

export function renderDiffHtml(d: StreamDiff, meta: DiffHtmlMeta): string {
  const changed = d.sections.filter((s) => s.status !== 'same');
  const config = d.configuration.length
    ? `<table class="fields"><tbody>${d.configuration.map(fieldRow).join('')}</tbody></table>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(meta.title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
.tiles { display: flex; flex-wrap: wrap; gap: 2px; margin: 0.5em 0 1.5em; }
a.tile { color: #fff; padding: 4px 8px; min-width: 6em; text-decoration: none; font-size: 12px; }
a.tile small { display: block; opacity: 0.85; }
.legend span { display: inline-block; padding: 2px 8px; margin-right: 6px; color: #fff; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
thead th { background: #eee; }
td code { word-break: break-all; }
section.section { border-left: 4px solid #999; padding-left: 1em; margin: 1em 0; }
</style>
</head>
<body>
<h1>${esc(meta.title)}</h1>
<p><code>${esc(meta.command)}</code></p>
<p class="summary" data-identical="${d.summary.identical}">${esc(summaryLine(d))}</p>
<p>A: <code>${esc(d.a.name)}</code>, ${d.a.size} bytes, machine ${esc(d.a.machineType ?? '(none)')}, description ${esc(d.a.vmdesc)}<br>
B: <code>${esc(d.b.name)}</code>, ${d.b.size} bytes, machine ${esc(d.b.machineType ?? '(none)')}, description ${esc(d.b.vmdesc)}</p>
${config}
<p class="legend"><span style="background: ${COLOURS.same}">same</span><span style="background: ${COLOURS.changed}">changed</span><span style="background: ${COLOURS['only-a']}">in one stream only</span></p>
<h2>Sections</h2>
<div class="tiles">
${d.sections.map(tile).join('\n')}
</div>
<h2>RAM</h2>
${ramTable(d)}
<h2>What differs</h2>
${changed.map(sectionDetail).join('\n') || '<p>No section differs.</p>'}
</body>
</html>
`;
}
