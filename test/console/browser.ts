import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`); playwright-core downloads no browser of its own. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Without the background-networking flags Chromium calls home (updates, sync, field trials), which
 * the closed network here refuses; QUIC and the GPU are of no use headless. Playwright gives each
 * launch a fresh --user-data-dir and adds --headless.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/**
 * Why the browser tests cannot run here, or undefined when they can. Without chromium they are
 * skipped on a developer's machine (with this message) and fail in CI, which must install it.
 */
export function missingBrowser(): string | undefined {
  if (chromiumInstalled()) return undefined;
  const message = `no Chromium at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`;
  if (process.env.CI === 'true') throw new Error(`the console's browser tests cannot run in CI: ${message}`);
  return message;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 120_000 });
}
