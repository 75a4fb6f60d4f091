/**
 * What the browser tests share: a fresh build of the web app, Chromium through playwright-core,
 * a page that fails the test on any page error or console error, and screenshots written to
 * test-artifacts/screenshots (and to docs/screenshots with UPDATE_SCREENSHOTS=1, for docs/web-app.md and the README).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import { build } from 'vite';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '..', '..', '..');
export const ARTIFACTS_DIR = join(ROOT, 'test-artifacts', 'screenshots');
export const DOCS_SCREENSHOTS_DIR = join(ROOT, 'docs', 'screenshots');

/** Builds the app into a temporary directory (the server serves it from there). */
export async function buildClient(): Promise<string> {
  const distDir = mkdtempSync(join(tmpdir(), 'atf-client-'));
  await build({
    configFile: join(import.meta.dirname, '..', '..', 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: distDir, emptyOutDir: true },
  });
  return distDir;
}

/** Headless Chromium as this machine needs it; playwright gives it a fresh profile. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

export interface OpenedPage {
  page: Page;
  /** Page errors and console errors seen so far: a test ends expecting none. */
  problems: string[];
  close(): Promise<void>;
}

/** Opens `url` in a new context and waits until the live connection is up. */
export async function openPage(browser: Browser, url: string, options: BrowserContextOptions = {}): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  await page.locator('[data-connection="connected"]').waitFor({ timeout: 15_000 });
  return { page, problems, close: () => context.close() };
}

/**
 * Saves a screenshot as a test artifact, and for the docs (docs/screenshots) when UPDATE_SCREENSHOTS=1:
 * the viewport, the whole page (`fullPage`), or one element of it (`element`, e.g. a card).
 */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean; element?: Locator } = {}): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  // Let animations and fonts settle into one frame.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  if (options.element) await options.element.screenshot({ path, animations: 'disabled' });
  else await page.screenshot({ path, fullPage: options.fullPage ?? false, animations: 'disabled' });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync(DOCS_SCREENSHOTS_DIR, { recursive: true });
    copyFileSync(path, join(DOCS_SCREENSHOTS_DIR, `${name}.png`));
  }
  return path;
}

/** What a browser test file starts around the app; `stopAll` stops whichever of them started. */
export interface BrowserTestParts {
  browser?: Browser;
  worker?: { stop(graceMs?: number): Promise<void> };
  server?: { stop(): Promise<void> };
  fake?: { close(): Promise<void> };
  redis?: { dispose(): Promise<void> };
  distDir?: string;
}

/** Stops a browser test file's parts in order: the browser, the worker, the server, the fake, Redis; then removes the build. */
export async function stopAll(parts: BrowserTestParts): Promise<void> {
  await parts.browser?.close();
  await parts.worker?.stop(100);
  await parts.server?.stop();
  await parts.fake?.close();
  await parts.redis?.dispose();
  if (parts.distDir) rmSync(parts.distDir, { recursive: true, force: true });
}
