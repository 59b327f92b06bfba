/**
 * One self-contained HTML page: inline styles and scripts only, allowed by a strict
 * Content-Security-Policy that names each block by its SHA-256 hash (no 'unsafe-inline', no
 * eval, nothing loaded from anywhere), so the page works from file:// and makes no request.
 * JSON data goes into non-executed `<script type="application/json">` blocks.
 */
import { createHash } from 'crypto';
import { esc, jsonForScript } from './escape';
import { BASE_CSS } from './styles';

export interface PageParts {
  title: string;
  body: string;
  /** Stylesheets after the shared one. */
  styles?: readonly string[];
  /** Scripts (vanilla JS, run in order at the end of the body). */
  scripts?: readonly string[];
  /** JSON documents by element id, read by the scripts with JSON.parse. */
  data?: Readonly<Record<string, string>>;
  /** 'self' lets the scripts fetch from the page's own origin (a loopback server); default none. */
  connect?: 'none' | 'self';
}

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

export function contentSecurityPolicy(p: PageParts, styles: readonly string[]): string {
  const scripts = p.scripts ?? [];
  return [
    "default-src 'none'",
    `style-src ${styles.map(sha256).join(' ')}`,
    `script-src ${scripts.length ? scripts.map(sha256).join(' ') : "'none'"}`,
    `connect-src ${p.connect === 'self' ? "'self'" : "'none'"}`,
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function htmlPage(p: PageParts): string {
  const styles = [BASE_CSS, ...(p.styles ?? [])];
  const data = Object.entries(p.data ?? {})
    .map(
      ([id, json]) =>
        `<script type="application/json" id="${esc(id)}">${jsonForScript(json)}</script>\n`,
    )
    .join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy(p, styles))}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(p.title)}</title>
${styles.map((s) => `<style>${s}</style>`).join('\n')}
</head>
<body>
${p.body}
${data}${(p.scripts ?? []).map((s) => `<script>${s}</script>`).join('\n')}
</body>
</html>
`;
}
