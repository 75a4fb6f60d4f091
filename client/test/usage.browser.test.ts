/**
 * Spend and budgets in real Chromium against the real server, a real worker and Redis, with
 * API keys for two tenants and an admin. The embedded summarizer costs nothing, so the test
 * records provider calls itself through the worker's task store (what a worker does after each
 * billed call): a week of them, on the tasks of each tenant. An admin sees every tenant's spend
 * and sets budgets from the form; the card follows a completion without a reload or a click; a
 * tenant's key sees its own spend and budget, no form, and a submit refused once its budget is
 * reached; a task's page shows its cost. Saves the Spend card for docs/web-app.md.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import type { CallUsage } from '../../schema/src/usage.ts';
import { getTask, graphql, SAMPLE_TEXT, submitTask, type RunningServer } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { LOCAL_MODEL } from '../../worker/providers/local-summarizer.ts';
import { createTaskStore } from '../../worker/task-store.ts';
import { ARTIFACTS_DIR, screenshot, startBrowserSystem, type BrowserSystem } from './support/browser.ts';

const KEYS = { acme: 'acme-spend-key-0123456789', globex: 'globex-spend-key-0123456789', admin: 'ops-spend-key-0123456789' };
const API_KEYS = JSON.stringify([
  { key: KEYS.acme, tenant: 'acme', scopes: ['tasks:read', 'tasks:write'] },
  { key: KEYS.globex, tenant: 'globex', scopes: ['tasks:read', 'tasks:write'] },
  { key: KEYS.admin, tenant: 'ops', scopes: ['admin', 'tasks:read', 'tasks:write'] },
]);
const DAY_MS = 86_400_000;
const MODEL = { mini: 'openai/gpt-4o-mini', haiku: 'anthropic/claude-3.5-haiku', flash: 'google/gemini-2.0-flash' };

let system: BrowserSystem;
let server: RunningServer;
let browser: Browser;
let store: ReturnType<typeof createTaskStore>;
const tasks: Record<'acme' | 'globex', string[]> = { acme: [], globex: [] };

/**
 * Records one provider call of `taskId` as the worker does, `daysAgo` days back (the store
 * files a call under the hour and day of its clock, so the clock is set back for that one
 * synchronous step).
 */
async function recordCall(tenant: 'acme' | 'globex', taskId: string, model: string, costUsd: number, options: { daysAgo?: number; estimated?: boolean; cachedTokens?: number } = {}) {
  const usage: CallUsage = {
    model,
    generationId: `gen-${randomUUID()}`,
    promptTokens: Math.round(costUsd * 90_000),
    completionTokens: Math.round(costUsd * 9_000),
    cachedTokens: options.cachedTokens ?? 0,
    reasoningTokens: model === MODEL.haiku ? 120 : 0,
    costUsd,
    estimated: options.estimated ?? false,
  };
  const clock = vi.spyOn(Date, 'now').mockReturnValue(Date.now() - (options.daysAgo ?? 0) * DAY_MS);
  const recorded = store.recordUsage({ taskId, tenant, token: `seed-${randomUUID()}` }, 1, usage, null);
  clock.mockRestore();
  expect(await recorded).toBe(true);
}

/** A week of calls: acme's spend grows through the week on two models, globex's stays small. */
async function seedWeek() {
  for (let daysAgo = 6; daysAgo >= 0; daysAgo -= 1) {
    await recordCall('acme', tasks.acme[daysAgo % 3]!, MODEL.mini, 0.006 + 0.002 * (6 - daysAgo), { daysAgo, cachedTokens: 400 });
    if (daysAgo % 2 === 0) await recordCall('acme', tasks.acme[daysAgo % 3]!, MODEL.haiku, 0.011, { daysAgo });
    await recordCall('globex', tasks.globex[daysAgo % 2]!, MODEL.flash, 0.004, { daysAgo });
    if (daysAgo % 3 === 0) await recordCall('globex', tasks.globex[daysAgo % 2]!, MODEL.mini, 0.002, { daysAgo });
  }
}

beforeAll(async () => {
  system = await startBrowserSystem({ serverEnv: { API_KEYS }, workerEnv: { BUDGET_RECHECK_MS: '200' } });
  ({ server, browser } = system);
  store = createTaskStore({ redis: system.redis.client, keys: createRedisKeys(), workerId: 'seed', leaseMs: 60_000, maxEventsPerTask: 100 });
  for (const [tenant, count] of [['acme', 4], ['globex', 2]] as const) {
    for (let i = 0; i < count; i += 1) tasks[tenant].push((await submitTask(server, `${SAMPLE_TEXT} ${tenant} ${i}.`, {}, KEYS[tenant])).id);
  }
  await Promise.all(
    (['acme', 'globex'] as const).flatMap((tenant) =>
      tasks[tenant].map((id) => waitFor(async () => (await getTask(server, id, KEYS[tenant]))?.state === 'COMPLETED', { timeoutMs: 30_000, message: `${id} to complete` })),
    ),
  );
  await seedWeek();
}, 180_000);

afterAll(() => system?.stop());

/** Opens the app and gives the key prompt `key`. */
async function openWithKey(page: Page, key: string, path = '/') {
  await page.goto(`${server.url}${path}`);
  await page.locator('#api-key').waitFor({ timeout: 15_000 });
  await page.fill('#api-key', key);
  await page.click('button:has-text("Use key")');
  await page.locator('[data-connection="connected"]').waitFor({ timeout: 15_000 });
}

async function setBudget(page: Page, tenant: string, period: 'DAY' | 'MONTH', limit: string) {
  const form = page.locator('form[aria-label="Set a budget"]');
  await form.locator('input[name="tenant"]').fill(tenant);
  await form.locator('select[name="period"]').selectOption(period);
  await form.locator('input[name="limitUsd"]').fill(limit);
  await form.locator('button[type="submit"]').click();
  await page.locator(`.budgets [role="status"]:has-text("budget of ${tenant} is now")`).waitFor();
}

const budgetFigures = (page: Page, id: string) => page.locator(`[data-budget="${id}"] [data-testid="budget-figures"]`);

describe('spend and budgets', () => {
  it('shows an admin spend per tenant and model over the week, sets budgets from the form, and follows completions', { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    try {
      await openWithKey(page, KEYS.admin, '/dashboard');
      const card = page.locator('[data-testid="spend-card"]');
      await card.locator('[data-testid="spend-table"]').waitFor({ timeout: 15_000 });

      // acme: mini every day ($0.006 … $0.018 = $0.084), haiku on 4 days ($0.044); globex: flash 7 × $0.004, mini 3 × $0.002;
      // and the embedded summarizer's own calls, which cost nothing.
      const lines = await card.locator('[data-testid="spend-table"] tbody tr').evaluateAll((rows) =>
        rows.map((row) => [row.getAttribute('data-tenant'), row.getAttribute('data-model'), row.querySelector('[data-testid="line-cost"]')?.textContent]),
      );
      expect(lines).toEqual([
        ['acme', MODEL.mini, '$0.0840'],
        ['acme', MODEL.haiku, '$0.0440'],
        ['globex', MODEL.flash, '$0.0280'],
        ['globex', MODEL.mini, '$0.0060'],
        ['acme', LOCAL_MODEL, '$0.00'],
        ['globex', LOCAL_MODEL, '$0.00'],
      ]);
      expect(await card.locator('[data-testid="spend-total"]').textContent()).toBe('$0.1620');
      // Seven days, each with spend; today's bar is acme's $0.029 and globex's $0.006.
      expect(await card.locator('.chart-bar').count()).toBe(7);
      expect(await card.locator('.chart-bar').evaluateAll((bars) => bars.map((bar) => bar.querySelectorAll('.chart-segment').length > 0))).toEqual(Array(7).fill(true));
      expect(Number(await card.locator('.chart-bar').last().getAttribute('data-total'))).toBeCloseTo(0.035, 9);

      // Budgets from the form: acme's day ($0.029 spent today of $0.05), globex's month.
      await setBudget(page, 'acme', 'DAY', '0.05');
      await expect.poll(() => budgetFigures(page, 'acme:DAY').textContent()).toBe('$0.0290 of $0.0500 (58%)');
      await setBudget(page, 'globex', 'MONTH', '0.5');
      await page.locator('[data-budget="globex:MONTH"]').waitFor();
      expect(await page.locator('[data-budget="acme:DAY"]').getAttribute('data-state')).toBe('ok');
      expect(await page.locator('[data-budget="acme:DAY"] [data-testid="budget-resets"]').textContent()).toMatch(/^Resets .+\(in \d+ (h|min|s)/);
      const audit = await graphql<{ auditLog: { nodes: { action: string; target: string | null }[] } }>(server, '{ auditLog(first: 5) { nodes { action target } } }', {}, KEYS.admin);
      expect(audit.data?.auditLog.nodes.filter((entry) => entry.action === 'setBudget').map((entry) => entry.target)).toEqual([
        'tenant=globex period=MONTH limitUsd=0.5',
        'tenant=acme period=DAY limitUsd=0.05',
      ]);

      // A call billed now says nothing by itself (usage is read on request) ...
      await recordCall('acme', tasks.acme[3]!, MODEL.haiku, 0.012, { estimated: true });
      // ... and one running holds its estimate against the budget.
      expect(await store.reserveBudget('acme', `seed-hold-${randomUUID()}`, 4_000_000, 120_000)).toEqual({ status: 'held' });
      // A task of acme's completes: the feed says so, and the card reads again, no click, no reload.
      const loadedAt = await page.evaluate(() => performance.timeOrigin);
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.postData() ?? ''));
      await submitTask(server, `${SAMPLE_TEXT} One more for acme.`, {}, KEYS.acme);
      await expect.poll(() => budgetFigures(page, 'acme:DAY').textContent(), { timeout: 15_000 }).toBe('$0.0410 + $0.0040 held of $0.0500 (90%)');
      expect(await page.locator('[data-budget="acme:DAY"]').getAttribute('data-state')).toBe('near');
      expect(await page.evaluate(() => performance.timeOrigin)).toBe(loadedAt);
      // One task (ACTIVE, then COMPLETED, within the 5 s interval): at most two reads.
      expect(requests.filter((body) => body.includes('query Spend')).length).toBeLessThanOrEqual(2);
      expect(await card.locator('[data-testid="spend-total"]').textContent()).toBe('$0.1740');

      await card.scrollIntoViewIfNeeded();
      await screenshot(page, 'dashboard-spend', { element: card });

      // By model, and a longer range.
      await card.locator('button[role="radio"]:has-text("by model")').click();
      expect(await card.locator('svg[role="img"]').getAttribute('aria-label')).toContain(`Cost per day by model, last 7 days (UTC): ${MODEL.mini} $0.0900`);
      await card.locator('button[role="radio"]:has-text("30 days")').click();
      await expect.poll(() => card.locator('.chart-bar').count()).toBe(30);

      // Readable on a phone: nothing wider than the screen but the table, which scrolls in its box.
      await page.setViewportSize({ width: 390, height: 844 });
      await card.locator('[data-budget="acme:DAY"]').waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await card.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard-spend-phone.png') });
      await page.setViewportSize({ width: 1280, height: 900 });

      // Lowered below today's spend: reached.
      await setBudget(page, 'acme', 'DAY', '0.02');
      await page.locator('[data-budget="acme:DAY"][data-state="reached"]').waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("shows a tenant's key its own spend and budget, no form, a refused submit with the reset time, and a task's cost", { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    try {
      await openWithKey(page, KEYS.acme, '/dashboard');
      const card = page.locator('[data-testid="spend-card"]');
      await card.locator('[data-testid="spend-table"]').waitFor({ timeout: 15_000 });
      expect(await card.locator('[data-testid="spend-table"] th').allTextContents()).toEqual(['Model', 'Tasks', 'Calls', 'Tokens in / out', 'Cost', 'Total']);
      expect(await card.locator('[data-testid="spend-table"] tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-model')))).toEqual([MODEL.mini, MODEL.haiku, LOCAL_MODEL]);
      expect(await card.locator('[data-budget]').evaluateAll((bars) => bars.map((bar) => bar.getAttribute('data-budget')))).toEqual(['acme:DAY']);
      expect(await card.locator('form[aria-label="Set a budget"]').count()).toBe(0);
      expect(await card.locator('button:has-text("Remove")').count()).toBe(0);
      expect(await card.locator('button[role="radio"]:has-text("by tenant")').count()).toBe(0);

      // The day's budget is reached: the submit is refused, and says when it resets.
      await page.click('nav a:has-text("Submit")');
      await page.fill('textarea#content', `${SAMPLE_TEXT} Over the budget.`);
      await page.click('button[type="submit"]');
      const refused = page.locator('[data-testid="budget-exceeded"]');
      await refused.waitFor();
      const tomorrow = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS).toISOString();
      expect(await refused.locator('time').first().getAttribute('datetime')).toBe(tomorrow);
      expect(await refused.textContent()).toMatch(/^Budget reached: the task was not submitted\. This tenant's daily budget is spent; .* It resets .+ \(in \d+ (h|min|s).*\), or sooner if an admin raises the limit\.$/);
      expect(await page.inputValue('textarea#content')).toContain('Over the budget.');

      // The task with the estimated call: its page adds up its calls (the summarizer's, then the one recorded here).
      const { data } = await graphql<{ task: { usage: { promptTokens: number; completionTokens: number } } }>(
        server,
        'query ($id: ID!) { task(id: $id) { usage { promptTokens completionTokens } } }',
        { id: tasks.acme[3] },
        KEYS.acme,
      );
      const { promptTokens, completionTokens } = data!.task.usage;
      expect(promptTokens).toBeGreaterThan(1080);
      const count = (n: number) => n.toLocaleString('en-US');
      await page.goto(`${server.url}/tasks/${tasks.acme[3]}`);
      await page.locator('[data-testid="cost-usd"]').waitFor({ timeout: 15_000 });
      expect(await page.textContent('[data-testid="cost"]')).toBe('$0.0120 estimated · 2 calls');
      expect(await page.textContent('[data-testid="usage"]')).toBe(MODEL.haiku);
      expect(await page.textContent('[data-testid="tokens"]')).toBe(
        `${count(promptTokens + completionTokens)} tokens (${count(promptTokens)} prompt, ${count(completionTokens)} completion, 120 reasoning)`,
      );
    } finally {
      await context.close();
    }
  });
});
