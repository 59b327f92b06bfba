/**
 * The diff as one self-contained HTML page, drawn with the page kit of explore and compat --html
 * (src/html: the shared look, a CSP that allows only the page's own stylesheets by hash, no
 * scripts, nothing loaded): a strip of tiles, one per section, coloured by what differs (green
 * same, amber changed, red in one stream only), then the RAM blocks and each changed section's
 * fields. Colours are classes of the stylesheet (the CSP allows no style attributes). All HTML
 * of `vmstate diff` is here.
 */
import { esc, htmlPage } from '../html';
import { summaryLine } from './format';
import type { FieldDiff, RamBlockDiff, SectionDiff, StreamDiff } from './types';

/** Status colours are the kit's palette: --ok same, --warn changed, --bad in one stream only. */
export const DIFF_CSS = `
.tiles { display: flex; flex-wrap: wrap; gap: 2px; margin: 0.5em 0 1.5em; }
a.tile { color: #fff; padding: 4px 8px; min-width: 6em; text-decoration: none; font-size: 12px; }
a.tile small { display: block; opacity: 0.85; }
.legend span { display: inline-block; padding: 2px 8px; margin-right: 6px; color: #fff; }
.st-same { background: var(--ok); }
.st-changed { background: var(--warn); }
.st-only-a, .st-only-b { background: var(--bad); }
table.grid { margin: 0.5em 0 1em; }
table.grid td { vertical-align: top; }
td code { word-break: break-all; }
section.section { border-left: 4px solid var(--line); padding-left: 1em; margin: 1em 0; }
section.section[data-status="changed"] { border-left-color: var(--warn); }
section.section[data-status^="only"] { border-left-color: var(--bad); }
table.ram td.block { border-left: 6px solid var(--ok); }
table.ram tr[data-differs="true"] td.block { border-left-color: var(--warn); }
table.ram tr[data-status^="only"] td.block, table.ram tr[data-status="size-differs"] td.block { border-left-color: var(--bad); }
`;

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
  return `<a class="tile st-${s.status}" data-section="${esc(sectionName(s))}" data-status="${s.status}"${link} title="${esc(sectionName(s))}: ${esc(s.status)}">${esc(sectionName(s))}<small>${esc(label)}</small></a>`;
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
    ? `<table class="grid fields"><thead><tr><th>field</th><th>type</th><th>where</th><th>A</th><th>B</th></tr></thead><tbody>\n${s.fields.map(fieldRow).join('\n')}\n</tbody></table>`
    : '';
  return `<section class="section" id="${anchor(s)}" data-section="${esc(sectionName(s))}" data-status="${s.status}">
<h3>${esc(sectionName(s))}: ${esc(s.status)}</h3>
<p>A: ${side(s.a)}; B: ${side(s.b)}</p>
${notes.map((n) => `<p>${n}</p>`).join('\n')}
${table}
</section>`;
}

const differs = (b: RamBlockDiff) => b.status !== 'same-size' || !!b.differingPages;

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
    return `<tr data-block="${esc(b.name)}" data-status="${b.status}" data-differs="${differs(b)}"><td class="block"><code>${esc(b.name)}</code></td><td>${esc(b.a?.length ?? '—')}</td><td>${esc(b.b?.length ?? '—')}</td><td>${esc(pages)}</td></tr>`;
  });
  return `<table class="grid ram"><thead><tr><th>block</th><th>A size</th><th>B size</th><th>differing pages</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

export function renderDiffHtml(d: StreamDiff, meta: DiffHtmlMeta): string {
  const changed = d.sections.filter((s) => s.status !== 'same');
  const config = d.configuration.length
    ? `<table class="grid fields"><tbody>${d.configuration.map(fieldRow).join('')}</tbody></table>`
    : '';
  const side = (x: StreamDiff['a']) =>
    `<code>${esc(x.name)}</code>, ${x.size} bytes, machine ${esc(x.machineType ?? '(none)')}, description ${esc(x.vmdesc)}`;
  const body = `<main class="page">
<h1>${esc(meta.title)}</h1>
<p><code>${esc(meta.command)}</code></p>
<p class="summary" data-identical="${d.summary.identical}">${esc(summaryLine(d))}</p>
<p>A: ${side(d.a)}<br>
B: ${side(d.b)}</p>
${config}
<p class="legend"><span class="st-same">same</span><span class="st-changed">changed</span><span class="st-only-a">in one stream only</span></p>
<h2>Sections</h2>
<div class="tiles">
${d.sections.map(tile).join('\n')}
</div>
<h2>RAM</h2>
${ramTable(d)}
<h2>What differs</h2>
${changed.map(sectionDetail).join('\n') || '<p>No section differs.</p>'}
</main>`;
  return htmlPage({ title: meta.title, body, styles: [DIFF_CSS] });
}
