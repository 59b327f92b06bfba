/** The look every page shares (compat matrix, explore, diff): one font stack, one palette. */
export const BASE_CSS = `
:root {
  --fg: #1f2328; --muted: #656d76; --bg: #ffffff; --panel: #f6f8fa; --line: #d0d7de;
  --accent: #0969da; --sel: #ffd33d; --sel-soft: #fff3b0; --ok: rgb(40, 170, 80);
  --warn: rgb(230, 160, 40); --bad: rgb(200, 40, 40);
  --mono: ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: var(--fg); background: var(--bg); }
main.page { padding: 1.5em 2em; }
h1 { font-size: 1.4em; margin: 0 0 0.4em; }
h2 { font-size: 1.15em; margin: 1em 0 0.4em; }
h3 { font-size: 1em; margin: 0.8em 0 0.3em; }
code, pre, .mono { font-family: var(--mono); font-size: 12.5px; }
pre { background: var(--panel); padding: 0.5em; white-space: pre-wrap; border-radius: 4px; }
table.grid { border-collapse: collapse; }
table.grid th, table.grid td { border-bottom: 1px solid var(--line); padding: 2px 8px; text-align: left; }
table.grid th { background: var(--panel); font-weight: 600; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; background: var(--panel); border: 1px solid var(--line); font-size: 12px; }
`;
