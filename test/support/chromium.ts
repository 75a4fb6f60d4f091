/** Headless Chromium for tests: Debian's /usr/bin/chromium (or CHROMIUM_PATH) driven by playwright-core. */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Launches it headless with the flags a test machine needs (docs/development.md, "Tests"): no
 * sandbox (it cannot start as root), no GPU, nothing fetched from the internet. playwright
 * gives it a fresh temporary profile of its own.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}
