/**
 * Debian's headless Chromium for the page tests (compat --html, explore): where it is, whether
 * the tests must run it, and the flags it starts with on this closed network.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = fs.existsSync(CHROMIUM);
/** VMSTATE_REQUIRE_QEMU set (CI): a page test must not skip for want of Chromium. */
export const chromiumRequired =
  process.env.VMSTATE_REQUIRE_QEMU !== undefined && process.env.VMSTATE_REQUIRE_QEMU !== '';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

type Chromium = typeof import('playwright-core').chromium;
type BrowserCtx = Awaited<ReturnType<Chromium['launchPersistentContext']>>;
export type Page = Awaited<ReturnType<BrowserCtx['newPage']>>;

/** One headless Chromium for a describe block's page tests, and what its tabs did. */
export interface PageSession {
  /** A new tab whose requests (into `requests`, or the list given) and console errors are recorded. */
  tab(requests?: string[]): Promise<Page>;
  /** Every URL the tabs requested (those given their own list excepted). */
  readonly requests: string[];
  /** Console errors and uncaught exceptions of every tab. */
  readonly errors: string[];
}

/** Starts Chromium in beforeAll (with a throw-away profile) and closes it in afterAll. */
export function pageSession(
  name: string,
  viewport: { width: number; height: number },
): PageSession {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  let browser: BrowserCtx | undefined;
  let profile = '';
  const requests: string[] = [];
  const errors: string[] = [];
  beforeAll(async () => {
    profile = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-chromium-profile-`));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport,
    });
  }, 60000);
  afterAll(async () => {
    await browser?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });
  return {
    requests,
    errors,
    async tab(into = requests) {
      const tab = await browser!.newPage();
      tab.on('request', (r) => into.push(r.url()));
      tab.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      tab.on('pageerror', (e) => errors.push(e.message));
      return tab;
    },
  };
}
