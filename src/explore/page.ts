/**
 * The explore page: one self-contained HTML file (the shared kit: hashed inline CSS and JS, a
 * strict CSP), with the `--format json` document and the section bytes as JSON blocks. RAM
 * page contents never go in: the map says only which pages are zero, data or compressed.
 */
import { analysisJson } from '../analyze/json-format';
import { esc, htmlPage } from '../html';
import type { SectionView } from '../analyze/section-view';
import { EXPLORE_JS } from './client';
import type { ExploreModel } from './model';
import { EXPLORE_CSS } from './styles';

/** A device section bigger than this is shown by its first bytes only. */
export const MAX_SECTION_BYTES = 16 << 20;

/** Where each field of a view's raw page lives in it ([offset, size] by field name, per page kind). */
export type PageLayouts = Record<string, Record<string, [number, number]>>;

export interface ExplorePageOptions {
  file: string;
  /** Served by `--serve`: the page may fetch RAM pages from its own origin. */
  serve?: boolean;
  /** A platform's readings of sections (the x86 cpu's nested state), as `--format json` shows them. */
  views?: readonly SectionView[];
  /** The fields of the views' raw pages (vmcs12, vmcb12): the nested view selects their bytes. */
  pageLayouts?: PageLayouts;
}

export function renderExplorePage(m: ExploreModel, o: ExplorePageOptions): string {
  const c = m.contents;
  const sections: { index: number; bodyOffset: number; bytes: string; cut?: string }[] = [];
  c.entries.forEach((e, index) => {
    if (e.type !== 'section') return;
    const body = e.section.body;
    const n = Math.min(body.length, MAX_SECTION_BYTES);
    sections.push({
      index,
      bodyOffset: e.section.bodyOffset,
      bytes: Buffer.from(body.buffer, body.byteOffset, n).toString('base64'),
      ...(n < body.length && {
        cut: `only the first ${n} of ${body.length} bytes are in the page`,
      }),
    });
  });
  const ram = m.ram.maps().map((b) => ({
    name: b.name,
    length: b.length,
    pageSize: b.pageSize,
    pages: b.pages,
    pagesPerCell: b.pagesPerCell,
    cells: Buffer.from(b.cells.buffer, b.cells.byteOffset, b.cells.length).toString('base64'),
  }));
  const model = { file: o.file, serve: !!o.serve, sections, ram, pageLayouts: o.pageLayouts ?? {} };
  const machine = c.configuration?.machineType ?? 'no configuration section';
  const body = `<header class="bar">
<h1>vmstate explore</h1>
<div class="meta">${esc(o.file)} &middot; ${c.walk.size} bytes &middot; QEMU stream v${c.header.version} &middot; ${esc(machine)} &middot; ${c.walk.vmdescFrom === 'none' ? 'no VM description: decoded by the catalog' : 'decoded by its VM description'}</div>
<div class="searchbox"><input id="search" type="search" placeholder="search a field path, e.g. cpu#0/env.eip  (/)" aria-label="search by field path" autocomplete="off"><div id="results" hidden></div></div>
</header>
<div class="panes">
<section class="pane"><h2>Sections</h2><div class="scroll"><table id="sections"><thead><tr><th>offset</th><th>id</th><th>name</th><th>size</th><th>ver</th><th>decoded</th><th>footer</th></tr></thead><tbody></tbody></table></div></section>
<section class="pane"><h2 id="tree-title">Fields</h2><div class="scroll" id="tree" role="tree"></div></section>
<section class="pane"><h2>Bytes</h2><div class="scroll" id="hex"></div>
<div id="nested-panel" hidden><h2 class="sub">KVM nested state, by field name</h2><div class="scroll" id="nested"></div></div></section>
</div>
<footer id="status"></footer>`;
  return htmlPage({
    title: `vmstate explore: ${o.file}`,
    body,
    styles: [EXPLORE_CSS],
    scripts: [EXPLORE_JS],
    data: { analysis: analysisJson(c, o.file, o.views), model: JSON.stringify(model) },
    connect: o.serve ? 'self' : 'none',
  });
}
