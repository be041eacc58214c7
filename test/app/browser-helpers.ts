// Headless Chromium for the browser tests of the real LED app (test/app/browser.test.ts,
// test/app/device-browser.test.ts): playwright-core driving Debian's /usr/bin/chromium
// (the only browser here: no Firefox binary), and the two kinds of page they open.
import { chromium } from 'playwright-core';
import type { Browser, BrowserContextOptions } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless, no sandbox (containers), and none of the browser's own traffic. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
}

export type Kind = 'phone' | 'desktop';

/** A phone (touch, 390 x 844 at 2x) or a desktop window (1280 x 800). */
export function contextOptions(kind: Kind): BrowserContextOptions {
  return kind === 'phone'
    ? { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 }
    : { viewport: { width: 1280, height: 800 } };
}
