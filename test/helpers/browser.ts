// A real browser for page tests: Debian's chromium (apt package `chromium`, installed by
// scripts/setup.sh), driven headless by puppeteer-core, which never downloads a browser. Launched so it
// makes no request of its own (no sync, updates, safe-browsing, first-run or background networking) and
// resolves no name at all: only 127.0.0.1 is reachable.
import { access } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import { launch, type Browser } from 'puppeteer-core';
import { tempDir } from './tmp.js';

export const CHROMIUM = process.env.KEYLESS_TEST_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-client-side-phishing-detection',
  '--disable-domain-reliability',
  '--disable-breakpad',
  '--metrics-recording-only',
  '--no-pings',
  '--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication',
  // no DNS: any name the browser might look up fails; the page is addressed by IP
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  '--no-proxy-server',
];

/** Fails loudly without chromium, unless the user opted out (KEYLESS_TEST_SKIP_BROWSER=1: skipped). */
export async function requireChromium(t: Pick<TestContext, 'skip'>): Promise<boolean> {
  try {
    await access(CHROMIUM);
    return true;
  } catch {
    if (process.env.KEYLESS_TEST_SKIP_BROWSER === '1') {
      t.skip(`no ${CHROMIUM} and KEYLESS_TEST_SKIP_BROWSER=1`);
      return false;
    }
    throw new Error(
      `this test needs a real browser at ${CHROMIUM} (apt-get install chromium; scripts/setup.sh does), or set KEYLESS_TEST_SKIP_BROWSER=1 to skip it explicitly.`,
    );
  }
}

export async function launchChromium(t: Pick<TestContext, 'after'>): Promise<Browser> {
  const profile = await tempDir(t, 'keyless-chromium-');
  const browser = await launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    // root (as on these machines) needs --no-sandbox
    args: [...CHROMIUM_ARGS, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
    defaultViewport: { width: 1680, height: 720 },
  });
  t.after(() => browser.close());
  return browser;
}
