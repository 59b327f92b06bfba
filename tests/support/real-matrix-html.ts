/**
 * The real-migration matrix as one self-contained page in the compat heatmap's style: per
 * configuration and machine type, rows are sources and columns destinations; each cell shows
 * what real QEMU did beside what `vmstate predict` said, red where they disagree (or where
 * registers differ after a load), grey where the catalog cannot predict the destination (it
 * lacks the release, the machine type, or a description of a section the stream carries).
 */
import { MATRIX_CSS } from '../../src/compat/html';
import { esc } from '../../src/html';
import { REAL_RELEASES } from './qemu';
import type { CellReport, MatrixReport } from './real-matrix';

const RED = 'rgb(200, 40, 40)';
const GREEN = 'rgb(40, 170, 80)';
const AMBER = 'rgb(230, 160, 40)';
const GREY = 'rgb(150, 150, 150)';

export function cellState(r: CellReport): 'disagree' | 'agree' | 'not-predicted' {
  if (r.agrees === false || (r.registers && r.registers.differing.length > 0)) return 'disagree';
  return r.agrees ? 'agree' : 'not-predicted';
}

function colour(r: CellReport): string {
  const s = cellState(r);
  if (s === 'disagree') return RED;
  if (s === 'not-predicted') return GREY;
  return r.reality.outcome === 'ok' ? GREEN : AMBER;
}

function renderCell(r: CellReport): string {
  const p = r.prediction;
  const predicted =
    p.status === 'predicted'
      ? `${p.outcome}${p.section ? ` at ${p.section}` : ''}`
      : `cannot tell${p.beyond ? ` (beyond the undescribed sections: ${p.beyond.outcome}${p.beyond.section ? ` at ${p.beyond.section}` : ''})` : ''}`;
  const real = `${r.reality.outcome}${r.reality.section ? ` at ${r.reality.section}` : ''}`;
  const regs = r.registers
    ? r.registers.differing.length
      ? `<small>registers differ: ${esc(r.registers.differing.slice(0, 4).join(', '))}</small>`
      : `<small>${r.registers.compared} registers equal</small>`
    : '';
  const title = [
    r.cell.id,
    `QEMU: ${real}`,
    ...r.reality.lines,
    p.status === 'predicted' ? `predict: ${predicted}` : `predict: ${p.why}`,
    ...(p.status === 'predicted' ? p.lines : []),
  ].join('\n');
  return (
    `<td class="cell" style="background: ${colour(r)}" title="${esc(title)}" data-state="${cellState(r)}" ` +
    `data-from="${r.cell.from}" data-to="${r.cell.to}" data-machine="${esc(r.cell.machine)}" data-configuration="${r.cell.configuration}">` +
    `QEMU ${esc(real)}<small>predict ${esc(predicted)}</small>${p.status === 'predicted' ? '' : `<small>${esc(p.why)}</small>`}${regs}</td>`
  );
}

export function renderRealMatrixHtml(report: MatrixReport, command: string): string {
  const groups = new Map<string, CellReport[]>();
  for (const r of report.cells) {
    const across = r.cell.sourceMachine !== r.cell.machine;
    const key = `${r.cell.configuration}: ${across ? `${r.cell.sourceMachine} -> the destination's newest q35 (across machine types)` : r.cell.machine}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const tables = [...groups]
    .map(([title, cells]) => {
      const head = REAL_RELEASES.map((t) => `<th scope="col">${t}</th>`).join('');
      const body = REAL_RELEASES.map((f) => {
        const tds = REAL_RELEASES.map((t) => {
          const c = cells.find((x) => x.cell.from === f && x.cell.to === t);
          return c ? renderCell(c) : '<td class="cell none" data-state="none">&ndash;</td>';
        }).join('');
        return `<tr><th scope="row">${f}</th>${tds}</tr>`;
      }).join('\n');
      return `<h2>${esc(title)}</h2>\n<table class="matrix"><thead><tr><th class="corner">from \\ to</th>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
    })
    .join('\n');
  const n = (s: ReturnType<typeof cellState>) =>
    report.cells.filter((c) => cellState(c) === s).length;
  const disagreements = report.cells.filter((c) => cellState(c) === 'disagree');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Real migrations and vmstate predict</title>
<style>
${MATRIX_CSS}
</style>
</head>
<body>
<h1>Real migrations and vmstate predict</h1>
<p><code>${esc(command)}</code></p>
<p class="summary">${report.cells.length} cells${report.shard ? ` (shard ${esc(report.shard)})` : ''}, ${report.migrations} real migrations in ${report.seconds.toFixed(1)} s on ${report.concurrency} worker(s):
${n('agree')} predicted and agreeing, ${n('disagree')} disagreeing, ${n('not-predicted')} not predicted.</p>
<p class="legend"><span style="background: ${GREEN}">loads, predicted</span><span style="background: ${AMBER}">refused, predicted alike</span><span style="background: ${GREY}">not predicted (the catalog lacks the release or machine type, or a description of a section the stream carries)</span><span style="background: ${RED}">prediction differs from QEMU, or registers differ</span>
Each cell: what real QEMU did, then what vmstate predict said; hover for QEMU's lines.</p>
${tables}
<h2>Disagreements</h2>
${
  disagreements.length
    ? disagreements
        .map(
          (d) =>
            `<section class="counterexample"><h3>${esc(d.cell.id)}</h3><pre>${esc(
              [
                `QEMU: ${d.reality.outcome}`,
                ...d.reality.lines,
                d.prediction.status === 'predicted'
                  ? `predict: ${d.prediction.outcome}`
                  : `predict: ${d.prediction.why}`,
                ...(d.prediction.status === 'predicted' ? d.prediction.lines : []),
                ...(d.registers?.differing.length ? ['registers:', ...d.registers.differing] : []),
              ].join('\n'),
            )}</pre></section>`,
        )
        .join('\n')
    : '<p>None.</p>'
}
</body>
</html>
`;
}
