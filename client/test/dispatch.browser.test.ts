/**
 * The fair dispatcher in real Chromium against the real server, one worker with one slot and the
 * fake provider taking 1.5 s a call, with API keys for two tenants and an admin: a paused
 * tenant's task says it waits because its tenant is paused, another tenant's waiting task shows
 * its position falling live (on its page and in the tasks table) and when it should start; the
 * admin resumes the paused tenant from the Tenants view and its task starts; a tenant's key sees
 * its own tenant only, and an admin's policy changes (a refused one shown on its field). Saves the
 * Tenants view and a waiting task's page for docs/web-app.md.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAnswer } from '../../tools/fake-openrouter.ts';
import { graphql, SAMPLE_TEXT, submitTask, type RunningServer } from '../../test/support/system.ts';
import { openPage, screenshot, startBrowserSystem, type BrowserSystem, type OpenedPage } from './support/browser.ts';

const KEYS = { acme: 'acme-dispatch-key-0123456789', globex: 'globex-dispatch-key-012345678', admin: 'ops-dispatch-key-0123456789' };
const API_KEYS = JSON.stringify([
  { key: KEYS.acme, tenant: 'acme', scopes: ['tasks:read', 'tasks:write'] },
  { key: KEYS.globex, tenant: 'globex', scopes: ['tasks:read', 'tasks:write'] },
  { key: KEYS.admin, tenant: 'ops', scopes: ['admin', 'tasks:read', 'tasks:write'] },
]);
/** Each provider call takes this long: with one slot, tasks start this far apart. */
const CALL_MS = 1500;

let system: BrowserSystem;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  system = await startBrowserSystem({
    fakeScript: (request) => ({ ...defaultAnswer(request), delayMs: CALL_MS }),
    serverEnv: { API_KEYS, STANDING_REFRESH_MS: '100', START_RATE_WINDOW_MS: '3000', TENANT_ACTIVITY_SAMPLE_MS: '200' },
    workerEnv: { WORKER_CONCURRENCY: '1' },
  });
  ({ server, browser } = system);
}, 180_000);

afterAll(() => system?.stop());

/** Opens `path` with `key` already kept in this browser (as the key prompt would keep it). */
const openAs = (key: string, path: string, viewport = { width: 1280, height: 800 }): Promise<OpenedPage> =>
  openPage(browser, `${server.url}${path}`, {
    viewport,
    storageState: { cookies: [], origins: [{ origin: server.url, localStorage: [{ name: 'atf.apiKey', value: key }] }] },
  });

async function submitInBrowser(page: Page, text: string): Promise<string> {
  await page.fill('textarea#content', text);
  const response = page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().postData()?.includes('SubmitTask') === true);
  await page.click('form[aria-label="Submit a task"] button[type="submit"]');
  const body = (await (await response).json()) as { data: { submitTask: { id: string } } };
  return body.data.submitTask.id;
}

/** The positions an element showed, each time it changed (recorded in the page, so none is missed between polls). */
async function recordPositions(page: Page, selector: string): Promise<() => Promise<string[]>> {
  await page.evaluate((target) => {
    const seen: string[] = [];
    (window as unknown as { positionsSeen: string[] }).positionsSeen = seen;
    const note = () => {
      const value = document.querySelector(target)?.getAttribute('data-position') ?? '';
      if (value !== '' && seen.at(-1) !== value) seen.push(value);
    };
    note();
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  }, selector);
  return () => page.evaluate(() => (window as unknown as { positionsSeen: string[] }).positionsSeen);
}

const tenantRow = (page: Page, tenant: string) => page.locator(`[data-testid="tenants-table"] tr[data-tenant="${tenant}"]`);

describe('fair dispatch in the web app', () => {
  let admin: OpenedPage;
  let acme: OpenedPage;
  let globex: OpenedPage;
  let globexTask: string;

  it("shows a paused tenant's task waiting because its tenant is paused, and another tenant's position falling live", { timeout: 120_000 }, async () => {
    // The admin pauses globex before it has submitted anything: from the form, by name.
    admin = await openAs(KEYS.admin, '/tenants');
    await admin.page.locator('text=No tenant has a policy or work yet.').waitFor();
    const form = admin.page.locator('form[aria-label="Set a tenant\'s policy"]');
    await form.locator('input[name="tenant"]').fill('globex');
    await form.locator('input[name="paused"]').check();
    await form.locator('button[type="submit"]').click();
    await admin.page.locator('[role="status"]:has-text("The policy of globex is saved.")').waitFor();
    await tenantRow(admin.page, 'globex').locator('[data-testid="paused"]').waitFor();

    // globex submits, HIGH, from its own key: its task waits, and says why.
    globex = await openAs(KEYS.globex, '/');
    await globex.page.click('button[role="radio"]:has-text("High")');
    globexTask = await submitInBrowser(globex.page, `${SAMPLE_TEXT} globex, paused.`);
    // The recent tasks say so too, compactly, with the priority beside the id.
    const recent = globex.page.locator(`tr[data-task-id="${globexTask}"]`);
    await recent.locator('[data-testid="standing"][data-wait-reason="TENANT_PAUSED"]').waitFor({ timeout: 15_000 });
    expect(await recent.locator('[data-testid="standing"]').textContent()).toBe('paused');
    expect(await recent.locator('[data-testid="priority-tag"]').textContent()).toBe('high');
    await globex.page.click(`tr[data-task-id="${globexTask}"] a`);
    const reason = globex.page.locator('[data-testid="wait-reason"]');
    await reason.waitFor({ timeout: 15_000 });
    expect(await reason.getAttribute('data-wait-reason')).toBe('TENANT_PAUSED');
    expect(await reason.textContent()).toContain('paused');
    expect(await globex.page.textContent('[data-testid="priority"]')).toBe('High');
    // A paused tenant's task has no place in the line.
    expect(await globex.page.locator('[data-testid="queue-position"]').count()).toBe(0);

    // acme fills the one slot and its line.
    const ahead = [];
    for (let i = 0; i < 8; i += 1) ahead.push((await submitTask(server, `${SAMPLE_TEXT} acme ${i}.`, {}, KEYS.acme)).id);

    // acme's last task: in the tasks table first, then on its own page, falling as each task ahead starts.
    const last = ahead.at(-1)!;
    acme = await openAs(KEYS.acme, '/tasks');
    const note = acme.page.locator(`tr[data-task-id="${last}"] [data-testid="standing"]`);
    await note.waitFor({ timeout: 15_000 });
    expect(await note.getAttribute('data-wait-reason')).toBe('QUEUED');
    // The position and its text are read in one step in the page: read one after the other, a
    // start landing between them (one every 1.5 s) paired one position with the next one's text.
    const [inList, shown] = await note.evaluate((element) => [Number(element.getAttribute('data-position')), element.textContent] as const);
    expect(shown).toBe(`${inList} ahead · queued`);
    await acme.page.locator(`tr[data-task-id="${last}"] [data-testid="standing"]:not([data-position="${inList}"])`).waitFor({ timeout: 15_000 });
    const loadedAt = await acme.page.evaluate(() => performance.timeOrigin);
    await acme.page.click(`tr[data-task-id="${last}"] a`);
    await acme.page.locator('[data-testid="queue-position"]').waitFor({ timeout: 15_000 });
    const positions = await recordPositions(acme.page, '[data-testid="queue-position"]');
    expect(await acme.page.textContent('[data-testid="wait-reason"]')).toBe('Queued behind other tasks');

    // Tasks have started, so there is a start rate, and an expected start.
    await acme.page.locator('[data-testid="estimated-start"]').waitFor({ timeout: 15_000 });
    expect(await acme.page.textContent('[data-testid="estimated-start"]')).toMatch(/^(in .+|any moment) \(estimate\)$/);
    await acme.page.locator('[data-testid="queue-position"][data-position="1"]').waitFor({ timeout: 15_000 });
    await screenshot(acme.page, 'task-waiting', { fullPage: true });

    await acme.page.locator('.task-header [data-state="ACTIVE"]').waitFor({ timeout: 15_000 });
    const seen = (await positions()).map(Number);
    // Every position it showed, one fewer at each start, down to "next"; no reload, no polling.
    expect(seen.at(-1)).toBe(0);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => seen[0]! - i));
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(await acme.page.locator('[data-testid="wait-reason"]').count()).toBe(0);
    expect(await acme.page.evaluate(() => performance.timeOrigin)).toBe(loadedAt);

    // All the while, the paused tenant's task waited.
    expect(await reason.getAttribute('data-wait-reason')).toBe('TENANT_PAUSED');
  });

  it('resumes the paused tenant from the Tenants view, and its task starts', { timeout: 90_000 }, async () => {
    const row = tenantRow(admin.page, 'globex');
    // The view followed the task feed: globex's task counts as waiting.
    await admin.page.locator('[data-testid="tenants-table"] tr[data-tenant="globex"] [data-testid="waiting"]:has-text("1")').waitFor({ timeout: 15_000 });
    expect(await tenantRow(admin.page, 'acme').locator('[data-testid="active"]').textContent()).toMatch(/^[01]$/);
    await row.locator('button:has-text("Resume")').click();
    await admin.page.locator('[role="status"]:has-text("globex is resumed")').waitFor();
    await admin.page.locator('[data-testid="tenants-table"] tr[data-tenant="globex"][data-paused="false"]').waitFor();

    // The task's page goes from "paused" to running, live.
    await globex.page.locator('.task-header [data-state="ACTIVE"], .task-header [data-state="COMPLETED"]').first().waitFor({ timeout: 30_000 });
    expect(await globex.page.locator('[data-wait-reason="TENANT_PAUSED"]').count()).toBe(0);
    // The view follows: globex has started a task in the window.
    await admin.page.locator('[data-testid="tenants-table"] tr[data-tenant="globex"] [data-testid="starts"]:has-text("· 1")').waitFor({ timeout: 15_000 });

    // A weight the server refuses is shown on its field and changes nothing.
    await row.locator('button:has-text("Edit")').click();
    const form = admin.page.locator('form[aria-label="Set a tenant\'s policy"]');
    expect(await form.locator('input[name="tenant"]').inputValue()).toBe('globex');
    await form.locator('input[name="weight"]').fill('0');
    await form.locator('button[type="submit"]').click();
    const refused = admin.page.locator('[data-testid="policy-error"]');
    await refused.waitFor();
    expect(await refused.getAttribute('data-field')).toBe('weight');
    expect(await refused.textContent()).toMatch(/weight must be/);
    expect(await form.locator('input[name="weight"]').getAttribute('aria-invalid')).toBe('true');
    // Then a weight of 2 and a cap of 3 for globex, for the picture.
    await form.locator('input[name="weight"]').fill('2');
    await form.locator('input[name="maxConcurrency"]').fill('3');
    await form.locator('button[type="submit"]').click();
    await admin.page.locator('[role="status"]:has-text("The policy of globex is saved.")').waitFor();
    await admin.page.locator('[data-testid="tenants-table"] tr[data-tenant="globex"] [data-testid="cap"]:has-text("3")').waitFor();
    expect(await row.locator('[data-testid="weight"]').textContent()).toBe('2');
    // Each change is audited, the refused one too.
    const audit = await graphql<{ auditLog: { nodes: { action: string }[] } }>(server, '{ auditLog(first: 10) { nodes { action } } }', {}, KEYS.admin);
    expect(audit.data?.auditLog.nodes.filter((entry) => entry.action === 'setTenantPolicy')).toHaveLength(4);


    // More work for both, and acme paused from its row: the view follows, live.
    for (let i = 0; i < 3; i += 1) await submitTask(server, `${SAMPLE_TEXT} globex more ${i}.`, {}, KEYS.globex);
    for (let i = 0; i < 3; i += 1) await submitTask(server, `${SAMPLE_TEXT} acme more ${i}.`, {}, KEYS.acme);
    await tenantRow(admin.page, 'acme').locator('button:has-text("Pause")').click();
    await admin.page.locator('[role="status"]:has-text("acme is paused")').waitFor();
    await tenantRow(admin.page, 'acme').locator('[data-testid="paused"]').waitFor();
    await expect.poll(() => tenantRow(admin.page, 'acme').locator('[data-testid="waiting"]').textContent(), { timeout: 15_000 }).toMatch(/^[1-3]$/);
    await expect.poll(() => row.locator('[data-testid="active"]').textContent(), { timeout: 15_000 }).toBe('1');
    await admin.page.mouse.move(0, 0);
    await screenshot(admin.page, 'tenants', { element: admin.page.locator('[data-testid="tenants"]') });
    for (const opened of [admin, globex, acme]) expect(opened.problems).toEqual([]);
  });

  it("shows a tenant's key its own tenant only, without controls", { timeout: 60_000 }, async () => {
    await globex.page.click('nav a:has-text("Tenants")');
    const rows = globex.page.locator('[data-testid="tenants-table"] tbody tr');
    await rows.first().waitFor({ timeout: 15_000 });
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-tenant')))).toEqual(['globex']);
    expect(await globex.page.locator('form[aria-label="Set a tenant\'s policy"]').count()).toBe(0);
    expect(await globex.page.locator('[data-testid="tenants-table"] button').count()).toBe(0);
    expect(await tenantRow(globex.page, 'globex').locator('[data-testid="weight"]').textContent()).toBe('2');

    // The admin sees both.
    const all = await admin.page.locator('[data-testid="tenants-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-tenant')));
    expect(all).toEqual(['acme', 'globex']);
    // Readable on a phone: nothing wider than the screen but the table, which scrolls in its box.
    await admin.page.setViewportSize({ width: 390, height: 844 });
    await admin.page.locator('form[aria-label="Set a tenant\'s policy"]').waitFor();
    expect(await admin.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    for (const opened of [admin, globex, acme]) {
      expect(opened.problems).toEqual([]);
      await opened.close();
    }
  });
});
