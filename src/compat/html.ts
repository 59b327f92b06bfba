/**
 * The compatibility matrix as one self-contained HTML page (the shared page kit, src/html: inline
 * CSS allowed by hash, no scripts, no external resources). One heatmap per machine-type family (rows: source release, columns: destination),
 * each cell coloured by its share of ok migrations (green) against refusals (amber to grey),
 * red when the cell breaks the migration property, then the counterexamples.
 */
import { BREAK_SENTENCE } from './expect';
import type { CellResult, MatrixResult } from './matrix';
import { formatOutcome } from './migrate';
import type { ReproFiles } from './repro';

import { esc, htmlPage } from '../html';

const family = (machine: string) => machine.replace(/-[^-]+$/, '');

/** A class per colour: the page's CSP allows its stylesheet by hash, never inline style attributes. */
const colourClass = (rgb: string) => 'bg-' + rgb.replace(/\D+/g, '-').replace(/^-|-$/g, '');
const colourRule = (rgb: string) => `.${colourClass(rgb)} { background: ${rgb}; }`;

/** The cell's colour: red when broken, else from amber (all refused) to green (all ok). */
export function cellColour(c: CellResult): string {
  if (c.violations > 0) return 'rgb(200, 40, 40)';
  const total = c.counts.ok + c.counts.refused + c.counts.lossy + c.counts.crash;
  const ok = total ? c.counts.ok / total : 0;
  // amber (230, 160, 40) -> green (40, 170, 80)
  const mix = (a: number, b: number) => Math.round(a + (b - a) * ok);
  return `rgb(${mix(230, 40)}, ${mix(160, 170)}, ${mix(40, 80)})`;
}

export interface HtmlMeta {
  readonly title: string;
  readonly command: string;
  readonly repro?: ReadonlyMap<CellResult, ReproFiles>;
}

export function renderMatrixHtml(result: MatrixResult, meta: HtmlMeta): string {
  const rows = [...new Set(result.cells.map((c) => c.from.name))];
  const cols = [...new Set(result.cells.map((c) => c.to.name))];
  // One heatmap per machine-type family, or per machine type when a pair has several of a family (--machine all).
  const perMachine = result.cells.some((c) =>
    result.cells.some(
      (d) =>
        d !== c && d.from === c.from && d.to === c.to && family(d.machine) === family(c.machine),
    ),
  );
  const groupOf = (machine: string) => (perMachine ? machine : family(machine));
  const families = [...new Set(result.cells.map((c) => groupOf(c.machine)))];
  const total = (k: 'ok' | 'refused' | 'lossy' | 'crash') =>
    result.cells.reduce((n, c) => n + c.counts[k], 0);
  const broken = result.cells.filter((c) => c.violations > 0);

  const table = (fam: string) => {
    const head = cols.map((t) => `<th scope="col">${esc(t)}</th>`).join('');
    const body = rows
      .map((f) => {
        const tds = cols
          .map((t) => {
            const cells = result.cells.filter(
              (c) => c.from.name === f && c.to.name === t && groupOf(c.machine) === fam,
            );
            if (cells.length === 0) return '<td class="cell none" data-state="none">&ndash;</td>';
            return cells.map((c) => renderCell(c)).join('');
          })
          .join('');
        return `<tr><th scope="row">${esc(f)}</th>${tds}</tr>`;
      })
      .join('\n');
    return `<h2>${esc(fam)}</h2>\n<table class="matrix" data-family="${esc(fam)}"><thead><tr><th class="corner">from \\ to</th>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
  };

  const examples = broken
    .map((c) => {
      const cx = c.counterexample;
      const files = meta.repro?.get(c);
      return `<section class="counterexample" data-from="${esc(c.from.name)}" data-to="${esc(c.to.name)}" data-machine="${esc(c.machine)}">
<h3>${esc(c.from.name)} &rarr; ${esc(c.to.name)} on ${esc(c.machine)} (${c.direction}): ${c.violations} of ${result.runs} VMs</h3>
${
  cx
    ? `<p class="violation">${esc(cx.violation)}</p>
<p>Shrunk counterexample (scenario <code>${esc(cx.vm.base)}</code>, ${cx.shrinks} shrink steps, seed ${cx.seed}):</p>
<pre>${esc(formatOutcome(cx.outcome))}</pre>`
    : ''
}
${
  files
    ? `<p>Reproduction: ${files.stream ? `stream <code>${esc(files.stream)}</code>, ` : ''}state <code>${esc(files.state)}</code></p>
<pre>${esc(files.commands.join('\n'))}</pre>`
    : ''
}
</section>`;
    })
    .join('\n');

  const legend: [string, string][] = [
    ['rgb(40, 170, 80)', 'all ok'],
    ['rgb(135, 165, 60)', 'some refused'],
    ['rgb(230, 160, 40)', 'all refused'],
    ['rgb(200, 40, 40)', 'property broken'],
  ];
  const colours = new Set([...legend.map(([c]) => c), ...result.cells.map(cellColour)]);
  const body = `<main class="page">
<h1>${esc(meta.title)}</h1>
<p><code>${esc(meta.command)}</code></p>
<p class="summary">${result.cells.length} cells, ${result.runs} VMs per cell (seed ${result.seed}), ${result.migrations} migrations in ${result.migrationSeconds.toFixed(1)} s${result.seconds - result.migrationSeconds >= 0.1 ? ` (then ${(result.seconds - result.migrationSeconds).toFixed(1)} s shrinking)` : ''}:
ok ${total('ok')}, refused ${total('refused')}, lossy ${total('lossy')}, crash ${total('crash')}; ${broken.length} cell(s) break the property.</p>
<p class="legend">${legend.map(([c, t]) => `<span class="${colourClass(c)}">${t}</span>`).join('')}
Cells: ok / refused (lossy, crash when any); rows are sources, columns destinations. ${esc(BREAK_SENTENCE)}</p>
${families.map(table).join('\n')}
<h2>Counterexamples</h2>
${examples || '<p>None: every cell keeps the property.</p>'}
</main>`;
  return htmlPage({
    title: meta.title,
    body,
    styles: [MATRIX_CSS, [...colours].map(colourRule).join('\n')],
  });
}

export const MATRIX_CSS = `
table.matrix { border-collapse: collapse; margin: 0.5em 0 1.5em; }
table.matrix th, table.matrix td { border: 1px solid #fff; padding: 4px 8px; text-align: center; }
table.matrix thead th, table.matrix tbody th { background: #eee; }
td.cell { color: #fff; min-width: 5.5em; font-variant-numeric: tabular-nums; }
td.cell.none { background: #ddd; color: #888; }
td.cell small { display: block; opacity: 0.85; }
.legend span { display: inline-block; padding: 2px 8px; margin-right: 6px; color: #fff; }
section.counterexample { border-left: 4px solid var(--bad); padding-left: 1em; margin: 1em 0; }
`;

function renderCell(c: CellResult): string {
  const state =
    c.violations > 0
      ? 'broken'
      : c.counts.refused === 0
        ? 'ok'
        : c.counts.ok === 0
          ? 'refused'
          : 'mixed';
  const extra =
    c.counts.lossy || c.counts.crash
      ? `<small>lossy ${c.counts.lossy}, crash ${c.counts.crash}</small>`
      : '';
  const title = `${c.from.name} -> ${c.to.name} on ${c.machine} (${c.direction}): ${
    Object.entries(c.reasons)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ') || 'no refusals'
  }${c.violations ? `; ${c.violations} violation(s)` : ''}`;
  return (
    `<td class="cell ${state} ${colourClass(cellColour(c))}" title="${esc(title)}" data-state="${state}" data-from="${esc(c.from.name)}" data-to="${esc(c.to.name)}" ` +
    `data-machine="${esc(c.machine)}" data-ok="${c.counts.ok}" data-refused="${c.counts.refused}" data-lossy="${c.counts.lossy}" data-crash="${c.counts.crash}" data-violations="${c.violations}">` +
    `${c.counts.ok} / ${c.counts.refused}${extra}</td>`
  );
}
