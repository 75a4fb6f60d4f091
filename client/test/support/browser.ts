/**
 * What the browser tests share: one build of the web app per test run, Chromium through
 * playwright-core, the system a browser test file runs against (`startBrowserSystem`), a page
 * that fails the test on any page error or console error, and screenshots written to
 * test-artifacts/screenshots (and to docs/screenshots with UPDATE_SCREENSHOTS=1, for docs/web-app.md and the README).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { build } from 'vite';
import { inject } from 'vitest';
import type { AppHooks } from '../../../server/app.ts';
import { startFakeOpenRouter, type FakeOpenRouter, type FakeScript } from '../../../tools/fake-openrouter.ts';
import { launchChromium } from '../../../test/support/chromium.ts';
import { startRedis, type TestRedis } from '../../../test/support/redis-server.ts';
import { fakeProviderEnv, startServer, startWorker, type Env, type RunningServer, type TestWorker } from '../../../test/support/system.ts';
import { waitFor } from '../../../test/support/wait-for.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
export const ARTIFACTS_DIR = join(ROOT, 'test-artifacts', 'screenshots');
export const DOCS_SCREENSHOTS_DIR = join(ROOT, 'docs', 'screenshots');

async function buildInto(outDir: string): Promise<void> {
  await build({
    configFile: join(import.meta.dirname, '..', '..', 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
}

/**
 * The web app built for this test run; the server serves it from the directory returned. The
 * first browser test file of a run builds it into the directory the global setup made
 * (client-build-setup.ts), the others wait for that build (up to 2 minutes) and share it: the
 * app is the same for all of them, and nothing writes into it. Read only: the run removes it.
 * Fails with the build's own error in every file if the build fails.
 */
export async function buildClient(): Promise<string> {
  const root = inject('clientBuildRoot');
  if (root === undefined) {
    // Outside this repository's vitest config (no global setup): a private build for this process.
    const distDir = mkdtempSync(join(tmpdir(), 'atf-client-'));
    process.once('exit', () => rmSync(distDir, { recursive: true, force: true }));
    await buildInto(distDir);
    return distDir;
  }
  const distDir = join(root, 'dist');
  const done = join(root, 'done');
  const failed = join(root, 'failed');
  let builder = false;
  try {
    // mkdir is atomic: exactly one file of the run gets to build.
    mkdirSync(join(root, 'lock'));
    builder = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (builder) {
    try {
      await buildInto(distDir);
    } catch (error) {
      writeFileSync(failed, String(error));
      throw error;
    }
    writeFileSync(done, '');
    return distDir;
  }
  await waitFor(() => existsSync(done) || existsSync(failed), { timeoutMs: 120_000, intervalMs: 100, message: 'the shared build of the web app' });
  if (existsSync(failed)) throw new Error(`the web app did not build: ${readFileSync(failed, 'utf8')}`);
  return distDir;
}

/** Headless Chromium as this machine needs it (test/support/chromium.ts); playwright gives it a fresh profile. */
export const launchBrowser = launchChromium;

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
}

/** Stops a browser test file's parts in order: the browser, the worker, the server, the fake, Redis. */
export async function stopAll(parts: BrowserTestParts): Promise<void> {
  await parts.browser?.close();
  await parts.worker?.stop(100);
  await parts.server?.stop();
  await parts.fake?.close();
  await parts.redis?.dispose();
}

export interface BrowserSystemOptions {
  /** Server env besides SERVE_CLIENT and CLIENT_DIST_DIR (those serve the shared build). */
  serverEnv?: Env;
  /** What main.ts would pass the server (a tracing, say). */
  serverHooks?: AppHooks;
  /** Starts the fake provider with this script, and points the worker at it. */
  fakeScript?: FakeScript;
  /** Worker env (besides the fake's, with `fakeScript`); `false` starts no worker. */
  workerEnv?: Env | false;
}

export interface BrowserSystem {
  distDir: string;
  redis: TestRedis;
  /** Set `server` to a server started later (a restart) and `stop` stops that one. */
  server: RunningServer;
  /** Only with `fakeScript`. */
  fake: FakeOpenRouter | undefined;
  /** Unless `workerEnv` is false. */
  worker: TestWorker | undefined;
  browser: Browser;
  /** Stops all of it (stopAll). */
  stop(): Promise<void>;
}

/**
 * Starts what a browser test file runs against: the shared build of the app, a private Redis,
 * the fake provider (with `fakeScript`), the real server serving the app, one real worker and
 * Chromium. The build, Redis, the fake and Chromium start side by side; then the server, then
 * the worker. If any part fails to start, the ones that started are stopped and it throws.
 */
export async function startBrowserSystem(options: BrowserSystemOptions = {}): Promise<BrowserSystem> {
  const parts: BrowserTestParts = {};
  const started = await Promise.allSettled([
    buildClient(),
    startRedis().then((redis) => (parts.redis = redis)),
    options.fakeScript ? startFakeOpenRouter().then((fake) => (parts.fake = fake)) : undefined,
    launchBrowser().then((browser) => (parts.browser = browser)),
  ]);
  try {
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    const distDir = (started[0] as PromiseFulfilledResult<string>).value;
    const redis = parts.redis as TestRedis;
    const fake = parts.fake as FakeOpenRouter | undefined;
    if (fake && options.fakeScript) fake.script(options.fakeScript);
    const server = await startServer(redis.url, { SERVE_CLIENT: 'true', CLIENT_DIST_DIR: distDir, ...options.serverEnv }, options.serverHooks);
    parts.server = server;
    const worker = options.workerEnv === false ? undefined : await startWorker(redis.url, { ...(fake ? fakeProviderEnv(fake) : {}), ...options.workerEnv });
    parts.worker = worker;
    const system: BrowserSystem = {
      distDir,
      redis,
      server,
      fake,
      worker,
      browser: parts.browser as Browser,
      stop: () => stopAll({ browser: system.browser, worker: system.worker, server: system.server, fake: system.fake, redis: system.redis }),
    };
    return system;
  } catch (error) {
    await stopAll(parts);
    throw error;
  }
}
