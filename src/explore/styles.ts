/** The explore page's layout: sections on the left, fields in the middle, bytes on the right. */
export const EXPLORE_CSS = `
html, body { height: 100%; }
body { display: flex; flex-direction: column; overflow: hidden; }
header.bar { display: flex; gap: 1em; align-items: center; padding: 6px 12px; border-bottom: 1px solid var(--line); background: var(--panel); }
header.bar h1 { font-size: 1.05em; margin: 0; white-space: nowrap; }
header.bar .meta { color: var(--muted); font-size: 12.5px; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.searchbox { position: relative; }
#search { width: 26em; padding: 4px 8px; border: 1px solid var(--line); border-radius: 4px; font: inherit; }
#results { position: absolute; right: 0; top: 100%; z-index: 5; width: 40em; max-height: 60vh; overflow: auto; background: #fff; border: 1px solid var(--line); box-shadow: 0 4px 12px rgba(0,0,0,.15); font-family: var(--mono); font-size: 12px; }
#results .res { padding: 2px 8px; cursor: pointer; white-space: nowrap; }
#results .res:hover, #results .res.act { background: var(--sel-soft); }
.panes { flex: 1; display: grid; grid-template-columns: minmax(330px, 24%) minmax(0, 1fr) 590px; min-height: 0; }
.pane { display: flex; flex-direction: column; min-height: 0; min-width: 0; border-right: 1px solid var(--line); }
.pane > h2, #nested-panel > h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0; padding: 6px 10px; border-bottom: 1px solid var(--line); background: var(--panel); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.scroll { overflow: auto; flex: 1; min-height: 0; }
#sections { width: 100%; border-collapse: collapse; font-size: 12.5px; }
#sections th { position: sticky; top: 0; background: var(--panel); text-align: left; font-weight: 600; padding: 2px 6px; border-bottom: 1px solid var(--line); }
#sections td { padding: 1px 6px; white-space: nowrap; border-bottom: 1px solid #eef1f4; }
#sections td.name { max-width: 11em; overflow: hidden; text-overflow: ellipsis; }
#sections tr { cursor: pointer; }
#sections tr:hover { background: #f0f4f8; }
#sections tr.sel { background: var(--sel-soft); }
td.warn, p.warn { color: var(--bad); }
#tree { padding: 4px 0; font-family: var(--mono); font-size: 12.5px; }
.f { display: flex; gap: .6em; padding: 1px 8px; cursor: pointer; white-space: nowrap; outline: none; }
.kids { padding-left: 1.3em; border-left: 1px dotted var(--line); margin-left: 13px; }
.node.closed > .kids { display: none; }
.f:hover { background: #f0f4f8; }
.f.sel { background: var(--sel); }
.f .tw { width: 1em; color: var(--muted); }
.f .n { color: #0550ae; }
.f.group .n { font-weight: 600; }
.f.sub .n { color: #8250df; }
.f .t { color: var(--muted); }
.f .v { color: var(--fg); overflow: hidden; text-overflow: ellipsis; }
.f .v.folded { text-decoration: underline dotted; }
.f .o { color: #9aa4ae; margin-left: auto; padding-left: 1em; }
#hex { font-family: var(--mono); font-size: 12.5px; padding: 4px 8px; }
.hr { white-space: nowrap; }
.ha { color: #9aa4ae; margin-right: 1em; }
.b { display: inline-block; width: 1.6em; text-align: center; cursor: pointer; border-radius: 2px; }
.b:nth-child(9) { margin-left: .5em; }
.b:hover { outline: 1px solid var(--accent); }
.b.hl { background: var(--sel); }
.asc { margin-left: 1em; color: var(--muted); white-space: pre; }
.more { padding: 2px 0; }
#nested-panel { max-height: 45%; display: flex; flex-direction: column; border-top: 1px solid var(--line); }
#nested-panel[hidden] { display: none; }
#nested { padding: 4px 10px; font-size: 12.5px; }
#nested table.grid td { padding: 0 8px; }
#nested tr.pick { cursor: pointer; }
#nested tr.pick:hover { background: #f0f4f8; }
#nested tr.pick.sel { background: var(--sel); }
footer#status { padding: 4px 12px; border-top: 1px solid var(--line); background: var(--panel); font-family: var(--mono); font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
canvas.ram { display: block; margin: 4px 10px 12px; image-rendering: pixelated; border: 1px solid var(--line); cursor: crosshair; }
#tree h3 { margin: 8px 10px 0; font-family: system-ui, sans-serif; }
p.legend { margin: 6px 10px; }
.sw { display: inline-block; padding: 0 6px; margin-right: 6px; border-radius: 3px; font-family: system-ui, sans-serif; }
.k0 { border: 1px solid var(--line); } .k1 { background: rgb(216, 222, 228); } .k2 { background: rgb(9, 105, 218); color: #fff; }
.k3 { background: rgb(191, 135, 0); color: #fff; } .k4 { background: rgb(130, 80, 223); color: #fff; }
#tree p { margin: 8px 10px; }
`;
