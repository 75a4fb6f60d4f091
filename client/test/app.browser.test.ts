/**
 * The web app in real Chromium against the real server, worker and Redis: submit text,
 * watch the task go live from PENDING to COMPLETED without a reload, open it, read the summary.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestRedis } from '../../test/support/redis-server.ts';
import { SAMPLE_TEXT, startServer, startWorker, type RunningServer } from '../../test/support/system.ts';
import { ARTIFACTS_DIR, startBrowserSystem, type BrowserSystem } from './support/browser.ts';

let system: BrowserSystem;
let redis: TestRedis;
let server: RunningServer;
let browser: Browser;
let distDir: string;

// No worker: each test starts its own when it wants its task to run.
beforeAll(async () => {
  system = await startBrowserSystem({ workerEnv: false });
  ({ redis, server, browser, distDir } = system);
}, 120_000);

afterAll(() => system?.stop());

async function openApp(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(server.url);
  await page.locator('[data-connection="connected"]').waitFor({ timeout: 10_000 });
  return { page, problems };
}

describe('web app', () => {
  it('submits text and shows the task reach COMPLETED live, then its summary', async () => {
    const { page, problems } = await openApp();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`));

    await page.fill('textarea#content', SAMPLE_TEXT);
    await page.click('button[type="submit"]');

    // No worker yet: the new row appears at once and waits in PENDING.
    const row = page.locator('tr[data-task-id]').first();
    await row.and(page.locator('[data-state="PENDING"]')).waitFor({ timeout: 10_000 });
    const taskId = await row.getAttribute('data-task-id');
    const loadedAt = await page.evaluate(() => performance.timeOrigin);

    const worker = await startWorker(redis.url);
    try {
      await page.locator(`tr[data-task-id="${taskId}"][data-state="COMPLETED"]`).waitFor({ timeout: 15_000 });
      // Same document: the change arrived over the subscription, not through a reload.
      expect(await page.evaluate(() => performance.timeOrigin)).toBe(loadedAt);
      // And not through polling: the only HTTP request after load was the submit.
      expect(requests.filter((r) => r.startsWith('POST /graphql'))).toHaveLength(1);

      await page.click(`tr[data-task-id="${taskId}"] a`);
      await page.locator('[data-testid="result"]').waitFor();
      const summary = await page.textContent('[data-testid="result"]');
      expect(summary).toBeTruthy();
      expect(SAMPLE_TEXT).toContain(summary!.trim().split('. ')[0]!);
      expect(await page.locator('.timeline li').count()).toBe(3);
      expect(page.url()).toBe(`${server.url}/tasks/${taskId}`);
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'app-task.png') });
    } finally {
      await worker.stop();
    }
    expect(problems).toEqual([]);
    await page.close();
  });

  it('cancels, retries and deletes a task from its page, live', async () => {
    const { page, problems } = await openApp();
    page.on('dialog', (dialog) => void dialog.accept());
    await page.fill('textarea#content', `${SAMPLE_TEXT} Operator actions.`);
    await page.click('button[type="submit"]');
    const row = page.locator('tr[data-task-id][data-state="PENDING"]').first();
    const taskId = (await row.getAttribute('data-task-id'))!;
    await page.click(`tr[data-task-id="${taskId}"] a`);
    const badge = page.locator('.task-header [data-state]');

    await page.click('button:has-text("Cancel")');
    await page.locator('.task-header [data-state="CANCELLED"]').waitFor();
    await page.click('button:has-text("Retry")');
    await page.locator('.task-header [data-state="PENDING"]').waitFor();
    const worker = await startWorker(redis.url);
    try {
      await page.locator('.task-header [data-state="COMPLETED"]').waitFor({ timeout: 15_000 });
      await page.locator('.timeline li').nth(4).waitFor();
      const timeline = await page.locator('.timeline li [data-state]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-state')));
      expect(timeline).toEqual(['PENDING', 'CANCELLED', 'PENDING', 'ACTIVE', 'COMPLETED']);
    } finally {
      await worker.stop();
    }
    expect(await badge.getAttribute('data-state')).toBe('COMPLETED');

    await page.click('button:has-text("Delete")');
    await page.waitForURL(`${server.url}/tasks`);
    await page.locator('tr[data-task-id]').first().waitFor();
    expect(await page.locator(`tr[data-task-id="${taskId}"]`).count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('renders provider output as text, never as HTML', async () => {
    const { page } = await openApp();
    const hostile = '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> Plain sentence here.';
    const rows = () => page.locator('tr[data-task-id]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-task-id')));
    await page.locator('text=Loading…').waitFor({ state: 'hidden' });
    const before = new Set(await rows());
    await page.fill('textarea#content', hostile);
    await page.click('button[type="submit"]');
    // The row of the task just submitted, not one an earlier test left.
    let newId: string | null = null;
    for (let i = 0; i < 100 && !newId; i += 1) {
      newId = (await rows()).find((id) => id !== null && !before.has(id)) ?? null;
      if (!newId) await page.waitForTimeout(50);
    }
    expect(newId).not.toBeNull();
    await page.click(`tr[data-task-id="${newId}"] a`);
    await page.locator('pre.content').waitFor();
    expect(await page.textContent('pre.content')).toBe(hostile);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('pre.content img').count()).toBe(0);
    await page.close();
  });

  it('serves the app for deep links, so a reload of a task page works', async () => {
    const response = await fetch(`${server.url}/tasks/some-id`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const page = await browser.newPage();
    await page.goto(`${server.url}/tasks/does-not-exist`);
    await page.locator('[role="alert"]').waitFor({ timeout: 10_000 });
    expect(await page.textContent('[role="alert"]')).toMatch(/not found/i);
    await page.close();
  });
  it('asks for an API key when the server demands one, sends it over HTTP and WebSocket, and hides admin views from a non-admin key', { timeout: 120_000 }, async () => {
    // A second server on the same Redis, with API keys: the real 401, 4403 and viewer.
    const TENANT_KEY = 'acme-browser-key-0123456789';
    const ADMIN_KEY = 'ops-browser-key-0123456789';
    const keyed = await startServer(redis.url, {
      SERVE_CLIENT: 'true',
      CLIENT_DIST_DIR: distDir,
      API_KEYS: JSON.stringify([
        { key: TENANT_KEY, tenant: 'acme', scopes: ['tasks:read', 'tasks:write'] },
        { key: ADMIN_KEY, tenant: 'ops', scopes: ['admin', 'tasks:read', 'tasks:write'] },
      ]),
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      const httpAuthorizations: (string | undefined)[] = [];
      const connectionInits: unknown[] = [];
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/graphql') void request.allHeaders().then((headers) => httpAuthorizations.push(headers['authorization']));
      });
      page.on('websocket', (socket) =>
        socket.on('framesent', (frame) => {
          const parsed = JSON.parse(String(frame.payload)) as { type: string; payload?: unknown };
          if (parsed.type === 'connection_init') connectionInits.push(parsed.payload ?? null);
        }),
      );

      await page.goto(keyed.url);
      await page.locator('#api-key').waitFor({ timeout: 15_000 });
      await page.fill('#api-key', TENANT_KEY);
      await page.click('button:has-text("Use key")');
      await page.locator('[data-connection="connected"]').waitFor({ timeout: 15_000 });
      expect(connectionInits.at(-1)).toEqual({ authorization: `Bearer ${TENANT_KEY}` });
      expect(await page.evaluate(() => window.localStorage.getItem('atf.apiKey'))).toBe(TENANT_KEY);
      await page.locator('.topbar-end:has-text("acme")').waitFor({ timeout: 15_000 });
      expect(httpAuthorizations.at(-1)).toBe(`Bearer ${TENANT_KEY}`);

      // The key's own work flows live.
      const worker = await startWorker(redis.url);
      try {
        await page.fill('textarea#content', `${SAMPLE_TEXT} Submitted with a key.`);
        await page.click('button[type="submit"]');
        await page.locator('tr[data-task-id][data-state="COMPLETED"]').first().waitFor({ timeout: 30_000 });
      } finally {
        await worker.stop();
      }

      // No ADMIN scope: no queue-wide views, no operator buttons.
      await page.click('nav a:has-text("Dashboard")');
      await page.locator('text=need a key with the admin scope').waitFor();
      expect(await page.locator('[data-testid="reset-breakers"]').count()).toBe(0);
      await page.click('nav a:has-text("Dead letters")');
      await page.locator('text=The dead letter queue needs a key with the admin scope.').waitFor();

      // Forget the key: it leaves the browser, and the server's refusal brings the prompt back.
      await page.click('button:has-text("Forget key")');
      await page.locator('#api-key').waitFor({ timeout: 15_000 });
      expect(await page.evaluate(() => window.localStorage.getItem('atf.apiKey'))).toBeNull();

      // An admin key sees the operator's dashboard.
      await page.fill('#api-key', ADMIN_KEY);
      await page.click('button:has-text("Use key")');
      await page.click('nav a:has-text("Dashboard")');
      await page.locator('[data-testid="reset-breakers"]').waitFor({ timeout: 15_000 });
    } finally {
      await context.close();
      await keyed.stop();
    }
  });
});
