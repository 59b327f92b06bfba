/**
 * `vmstate diff --html`: the page is drawn with the page kit of explore and compat --html (its
 * stylesheet, its hashed CSP) and, in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core), shows one tile per section coloured by what differs, each changed field
 * with the values `--format json` gives, links to the changed sections, fetches nothing and
 * logs no error (a style the CSP refuses is one). Skipped locally only when chromium is missing
 * and VMSTATE_REQUIRE_QEMU is unset; CI sets it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BASE_CSS } from '../src/html';
import type { StreamDiff } from '../src/diff/types';
import { chromiumRequired, haveChromium, pageSession, type Page } from './support/chromium';
import { streamPath } from './fixtures/qemu-streams';
import { runCli } from './fixtures/run-cli';

const ARTIFACTS = path.resolve(__dirname, 'artifacts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diff-html-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const PALETTE = {
  same: 'rgb(40, 170, 80)',
  changed: 'rgb(230, 160, 40)',
  'only-a': 'rgb(200, 40, 40)',
  'only-b': 'rgb(200, 40, 40)',
};

interface Pair {
  name: string;
  page: string;
  html: string;
  diff: StreamDiff;
}

/** The page and the JSON of one diff, written by the CLI. */
async function pair(name: string, a: string, b: string): Promise<Pair> {
  const page = path.join(dir, `${name}.html`);
  const args = ['diff', streamPath(a), streamPath(b), '--ram', 'pages'];
  const r = await runCli([...args, '--html', page]);
  expect(r.code).toBe(1);
  const j = await runCli([...args, '--format', 'json']);
  expect(j.code).toBe(1);
  return { name, page, html: fs.readFileSync(page, 'utf8'), diff: JSON.parse(j.stdout) };
}

let running: Pair;
let machines: Pair;
beforeAll(async () => {
  running = await pair('pc-paused-running', 'pc-nodefaults-paused', 'pc-nodefaults-running');
  machines = await pair('pc-q35', 'pc-nodefaults-paused', 'q35-nodefaults-paused');
});

describe('the page', () => {
  it("is the kit's page: its stylesheet first, a CSP naming each stylesheet by hash, no script", () => {
    for (const { html } of [running, machines]) {
      const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1];
      expect(csp).toMatch(
        /^default-src &#39;none&#39;; style-src &#39;sha256-[^ ]+&#39; &#39;sha256-/,
      );
      expect(csp).toContain('script-src &#39;none&#39;');
      expect(csp).not.toContain('unsafe');
      expect(html.indexOf(`<style>${BASE_CSS}</style>`)).toBeGreaterThan(0);
      expect(html).not.toMatch(/<script|<link|src=|https?:|style="/);
    }
  });
});

(haveChromium || chromiumRequired ? describe : describe.skip)('in headless Chromium', () => {
  const session = pageSession('diff', { width: 1400, height: 900 });
  const { requests, errors } = session;

  async function open(p: Pair): Promise<Page> {
    const tab = await session.tab();
    await tab.goto(`file://${p.page}`);
    return tab;
  }

  // Runs in the page, where getComputedStyle exists (tsconfig has no DOM lib).
  type Styled = { getComputedStyle(e: unknown): Record<string, string> };
  type Win = { location: { hash: string }; scrollY: number };

  const tilesOf = (tab: Page) =>
    tab.$$eval('a.tile', (as) =>
      as.map((a) => ({
        section: a.getAttribute('data-section') ?? '',
        status: a.getAttribute('data-status') ?? '',
        bg: (globalThis as unknown as Styled).getComputedStyle(a).backgroundColor,
        href: a.getAttribute('href'),
      })),
    );

  it('one tile per section, coloured by its status in the shared palette', async () => {
    for (const p of [running, machines]) {
      const tab = await open(p);
      const tiles = await tilesOf(tab);
      expect(tiles.map((t) => [t.section, t.status])).toEqual(
        p.diff.sections.map((s) => [`${s.idstr}#${s.instance}`, s.status]),
      );
      for (const t of tiles) expect(t.bg).toBe(PALETTE[t.status as keyof typeof PALETTE]);
      // Both pages have sections that differ; pc against q35 has sections of one machine only.
      expect(new Set(tiles.map((t) => t.status))).toEqual(
        new Set(p === running ? ['same', 'changed'] : ['same', 'changed', 'only-a', 'only-b']),
      );
      // The body is in the kit's font, as explore and compat --html are.
      const font = await tab.$eval(
        'body',
        (b) => (globalThis as unknown as Styled).getComputedStyle(b).fontFamily,
      );
      expect(font).toMatch(/^system-ui/);
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await tab.screenshot({ path: path.join(ARTIFACTS, `diff-${p.name}.png`), fullPage: true });
      await tab.close();
    }
  });

  it("a changed section lists its fields with the JSON's values; its tile links to it", async () => {
    const cpu = running.diff.sections.find((s) => s.idstr === 'cpu')!;
    expect(cpu.status).toBe('changed');
    const tab = await open(running);
    const rows = await tab.$$eval('section.section[data-section="cpu#0"] tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())),
    );
    expect(rows.map((r) => [r[0], r[3], r[4]])).toEqual(
      cpu.fields.map((f) => [f.path, f.a ?? '—', f.b ?? '—']),
    );
    expect(rows.map((r) => r[0])).toContain('env.eip');
    await tab.click('a.tile[data-section="cpu#0"]');
    expect(await tab.evaluate(() => (globalThis as unknown as Win).location.hash)).toBe('#s-cpu_0');
    // Followed: the page scrolled and the section is in view.
    const top = await tab.$eval(
      'section.section[data-section="cpu#0"]',
      (s) =>
        (s as unknown as { getBoundingClientRect(): { top: number } }).getBoundingClientRect().top,
    );
    expect(await tab.evaluate(() => (globalThis as unknown as Win).scrollY)).toBeGreaterThan(0);
    expect(top).toBeGreaterThanOrEqual(0);
    expect(top).toBeLessThan(900);
    // A section that is the same in both has no link and no detail.
    const same = running.diff.sections.find((s) => s.status === 'same')!;
    expect(await tab.$$(`section.section[data-section="${same.idstr}#${same.instance}"]`)).toEqual(
      [],
    );
    await tab.close();
  });

  it('RAM blocks are rows with their differing pages', async () => {
    const tab = await open(running);
    const blocks = await tab.$$eval('table.ram tbody tr', (trs) =>
      trs.map((tr) => ({
        name: tr.getAttribute('data-block'),
        differs: tr.getAttribute('data-differs'),
        pages: (tr.querySelectorAll('td')[3].textContent ?? '').trim(),
        edge: (globalThis as unknown as Styled).getComputedStyle(tr.querySelector('td.block'))
          .borderLeftColor,
      })),
    );
    expect(blocks.map((b) => b.name)).toEqual(running.diff.ram!.blocks.map((b) => b.name));
    for (const [i, b] of running.diff.ram!.blocks.entries()) {
      expect(blocks[i].pages.split(':')[0]).toBe(String(b.differingPages));
      expect(blocks[i].edge).toBe(b.differingPages ? PALETTE.changed : PALETTE.same);
    }
    await tab.close();
  });

  it('made no request beyond the pages themselves and logged no error', () => {
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    expect(errors).toEqual([]);
  });
});
