/**
 * Live output in real Chromium against the real server, worker and Redis, with the fake provider
 * streaming slowly: the task page shows the text growing, rides out going offline and online in
 * the middle of the stream, and ends with exactly the result. Saves a screenshot of the text
 * streaming for the docs.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamedAnswer } from '../../tools/fake-openrouter.ts';
import { getTask, SAMPLE_TEXT, submitTask, type RunningServer } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { openPage, screenshot, startBrowserSystem, type BrowserSystem } from './support/browser.ts';

const ANSWER =
  'Redis is an in-memory data store that serves as a database, a cache and a message broker. ' +
  'Job queues are built on its lists, because pushing and popping are atomic, and it persists data ' +
  'through snapshots or an append-only file.';

let system: BrowserSystem;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  system = await startBrowserSystem({
    // 60 pieces 100 ms apart: six seconds of writing, time to go offline and back in the middle.
    fakeScript: (request) => streamedAnswer(request, { chunks: 60, delayMs: 100, text: ANSWER }),
    workerEnv: { PROVIDER_TIMEOUT_MS: '30000' },
  });
  ({ server, browser } = system);
}, 180_000);

afterAll(() => system?.stop());

describe('live output in the browser', () => {
  it('grows the text on the task page, rides out going offline mid-stream, and ends with the exact result', async () => {
    const task = await submitTask(server, SAMPLE_TEXT);
    const { page, problems, close } = await openPage(browser, `${server.url}/tasks/${task.id}`);
    try {
      const output = page.locator('[data-testid="output"]');
      // Every text the page shows while streaming is a start of the answer: no flicker, nothing twice.
      const seen: string[] = [];
      const sample = async () => {
        const text = (await output.textContent().catch(() => null)) ?? '';
        if (text) seen.push(text);
        return text;
      };
      await waitFor(async () => (await sample()).length > 20, { timeoutMs: 20_000, intervalMs: 20, message: 'the text to start' });
      await expect(page.locator('[data-testid="output-attempt"]').textContent()).resolves.toMatch(/attempt 1/);
      await waitFor(async () => (await sample()).length > 60, { timeoutMs: 20_000, intervalMs: 20, message: 'the text to grow' });
      await screenshot(page, 'task-streaming');

      await page.context().setOffline(true);
      await page.locator('[data-connection="offline"]').waitFor({ timeout: 10_000 });
      const offlineAt = await sample();
      // The model keeps writing meanwhile; the page catches up from its cursor when back.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await page.context().setOffline(false);
      await page.locator('[data-connection="connected"]').waitFor({ timeout: 20_000 });
      await waitFor(async () => (await sample()).length > offlineAt.length + 10 || (await page.locator('[data-testid="result"]').count()) > 0, {
        timeoutMs: 20_000,
        intervalMs: 20,
        message: 'the text to go on after reconnecting',
      });
      await page.locator('[data-testid="result"]').waitFor({ timeout: 20_000 });

      const done = (await getTask(server, task.id))!;
      expect(done.state).toBe('COMPLETED');
      expect(done.result).toBe(ANSWER);
      expect((await page.locator('[data-testid="result"]').textContent())?.trim()).toBe(ANSWER);
      expect(seen.length).toBeGreaterThan(3);
      for (const text of seen) expect(ANSWER.startsWith(text), text).toBe(true);
      // Lengths only grow: nothing was shown twice or taken back.
      const lengths = seen.map((text) => text.length);
      expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
      expect(problems.filter((problem) => !/ERR_INTERNET_DISCONNECTED|WebSocket/.test(problem))).toEqual([]);
    } finally {
      await close();
    }
  });
});
