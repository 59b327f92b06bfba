/**
 * Debian's headless Chromium for the page tests (compat --html, explore): where it is, whether
 * the tests must run it, and the flags it starts with on this closed network.
 */
import * as fs from 'fs';

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
