/**
 * `vmstate compat --html`: the page is self-contained and renders as a heatmap in a real
 * headless Chromium (Debian package `chromium`, driven by playwright-core). Skipped locally
 * only when chromium is missing and VMSTATE_REQUIRE_QEMU is unset; CI sets it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumRequired, haveChromium } from './support/chromium';
import { runCli } from './fixtures/run-cli';

const ARTIFACTS = path.resolve(__dirname, 'artifacts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compat-html-'));
const page = path.join(dir, 'matrix.html');
let html = '';
let code = -1;

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  process.env.VMSTATE_REPRO_DIR = path.join(dir, 'repro');
  // 4.1 and 7.2 plus blob, on both families: blob's cells with 4.1 and 7.2 break the property.
  const r = await runCli([
    'compat',
    '--from',
    '4.1',
    '7.2',
    '--to',
    '4.1',
    '7.2',
    '--design',
    'blob',
    '--runs',
    '25',
    '--shrink-time',
    '500',
    '--html',
    page,
  ]);
  code = r.code;
  html = fs.readFileSync(page, 'utf8');
  delete process.env.VMSTATE_REPRO_DIR;
});

describe('the HTML page', () => {
  it('is written whole, exit 1 because blob breaks the property, and names the counterexample files', () => {
    expect(code).toBe(1);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(html).toMatch(/7\.2-to-blob-pc-q35-7\.2\.state\.json/);
  });

  it('loads nothing from elsewhere: no scripts, links, images or URLs', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|src=|href=|url\(|@import/i);
  });

  it('an unwritable --html path is a usage error and leaves nothing behind', async () => {
    const r = await runCli([
      'compat',
      '--from',
      '7.2',
      '--to',
      '7.2',
      '--runs',
      '2',
      '--html',
      path.join(dir, 'missing', 'x.html'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write/);
    expect(fs.existsSync(path.join(dir, 'missing'))).toBe(false);
  });
});

(haveChromium || chromiumRequired ? describe : describe.skip)(
  'rendered in headless Chromium',
  () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    type Ctx = Awaited<ReturnType<typeof chromium.launchPersistentContext>>;
    let browser: Ctx;
    const requests: string[] = [];
    const errors: string[] = [];
    let cells: {
      state: string;
      bg: string;
      text: string;
      ok: number;
      refused: number;
      violations: number;
      from: string;
      to: string;
      machine: string;
    }[] = [];
    let tables: string[] = [];
    let profile = '';

    beforeAll(async () => {
      profile = fs.mkdtempSync(path.join(os.tmpdir(), 'compat-chromium-profile-'));
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_FLAGS,
      });
      const tab = await browser.newPage();
      tab.on('request', (r) => requests.push(r.url()));
      // A style or script the page's CSP refuses is reported here as an error.
      tab.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      tab.on('pageerror', (e) => errors.push(e.message));
      await tab.goto(`file://${page}`);
      tables = await tab.$$eval('table.matrix', (ts) =>
        ts.map((t) => t.getAttribute('data-family') ?? ''),
      );
      cells = await tab.$$eval('td.cell[data-from]', (tds) =>
        tds.map((td) => ({
          state: td.getAttribute('data-state') ?? '',
          // Runs in the page, where getComputedStyle exists (tsconfig has no DOM lib).
          bg: (
            globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }
          ).getComputedStyle(td).backgroundColor,
          text: (td.textContent ?? '').trim(),
          ok: Number(td.getAttribute('data-ok')),
          refused: Number(td.getAttribute('data-refused')),
          violations: Number(td.getAttribute('data-violations')),
          from: td.getAttribute('data-from') ?? '',
          to: td.getAttribute('data-to') ?? '',
          machine: td.getAttribute('data-machine') ?? '',
        })),
      );
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await tab.screenshot({ path: path.join(ARTIFACTS, 'compat-matrix.png'), fullPage: true });
    }, 60000);

    afterAll(async () => {
      await browser?.close();
      if (profile) fs.rmSync(profile, { recursive: true, force: true });
    });

    it('one heatmap per machine family, a cell per pair (3 x 3 releases, 2 families)', () => {
      expect(tables).toEqual(['pc-q35', 'pc-i440fx']);
      expect(cells.length).toBe(18);
      expect(new Set(cells.map((c) => `${c.from}>${c.to}>${c.machine}`)).size).toBe(18);
    });

    it('cells show their counts and are coloured by outcome: green all ok, red broken, between for mixed', () => {
      for (const c of cells) {
        expect(c.text).toBe(`${c.ok} / ${c.refused}`);
        expect(c.ok + c.refused).toBe(25);
        if (c.violations > 0) expect(c.bg).toBe('rgb(200, 40, 40)');
        else if (c.refused === 0) expect(c.bg).toBe('rgb(40, 170, 80)');
        else if (c.ok === 0) expect(c.bg).toBe('rgb(230, 160, 40)');
        else expect(c.bg).toMatch(/^rgb\(\d+, \d+, \d+\)$/);
      }
      expect(
        cells
          .filter((c) => c.state === 'broken')
          .map((c) => `${c.from}>${c.to}`)
          .sort(),
      ).toEqual([
        '4.1>blob',
        '4.1>blob',
        '7.2>blob',
        '7.2>blob',
        'blob>4.1',
        'blob>4.1',
        'blob>7.2',
        'blob>7.2',
      ]);
      expect(cells.find((c) => c.from === '4.1' && c.to === '7.2')!.state).toBe('ok');
    });

    it('made no request beyond the page itself and logged no error', () => {
      expect(requests.length).toBeGreaterThan(0);
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
      expect(errors).toEqual([]);
    });
  },
);
