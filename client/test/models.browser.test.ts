/**
 * Model chains on the task page, in real Chromium against the real server, worker and Redis,
 * with the fake provider over HTTP: the chain is `acme/primary,acme/fallback`, and the primary's
 * first stream is cut after a few chunks. The task's second attempt is answered by the fallback.
 * The page's live output names the model writing and starts over on the reset; once the task is
 * done its timeline names each attempt's model (with its chain place where the model changed, and
 * the switch reason), and the provider calls table names the model that answered each call; all
 * of it as the API reports it. Saves a screenshot of the page for docs/web-app.md.
 *
 * The fake answers the second call as the fallback whichever model the worker asked for: a worker
 * that moves to the fallback itself is answered by it, and one that asks the primary again gets
 * the fallback's answer the way OpenRouter's router may serve another model than the one asked
 * (the model that answered is what the service records, either way).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamedAnswer, type FakeOpenRouter } from '../../tools/fake-openrouter.ts';
import { graphql, SAMPLE_TEXT, submitTask, waitForTask, type RunningServer } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { openPage, screenshot, startBrowserSystem, type BrowserSystem } from './support/browser.ts';

const PRIMARY = 'acme/primary';
const FALLBACK = 'acme/fallback';
const CHAIN = { OPENROUTER_MODEL: PRIMARY, OPENROUTER_MODELS: `${PRIMARY},${FALLBACK}` };
const ANSWER =
  'Redis is an in-memory data store that serves as a database, a cache and a message broker; ' +
  'job queues are built on its lists, because pushing and popping are atomic.';
/** The primary's stream is cut after this many text chunks (of 30). */
const CUT_AFTER_CHUNKS = 8;

let system: BrowserSystem;
let server: RunningServer;
let fake: FakeOpenRouter;
let browser: Browser;
/** The first call waits for the page to be open, so that the page sees the primary write. */
let pageOpen: () => void;
const pageReady = new Promise<void>((resolve) => (pageOpen = resolve));

interface ModelStep {
  state: string;
  reason: string | null;
  model: string | null;
  chainIndex: number | null;
  switchReason: string | null;
}
interface ModelCall {
  attempt: number;
  model: string;
  chainIndex: number | null;
  switchReason: string | null;
}

async function modelsOf(id: string) {
  const answer = await graphql<{ task: { history: ModelStep[]; usage: { perCall: ModelCall[] } | null } }>(
    server,
    'query ($id: ID!) { task(id: $id) { history { state reason model chainIndex switchReason } usage { perCall { attempt model chainIndex switchReason } } } }',
    { id },
  );
  if (!answer.data) throw new Error(JSON.stringify(answer.errors));
  return { history: answer.data.task.history, perCall: answer.data.task.usage?.perCall ?? [] };
}

beforeAll(async () => {
  system = await startBrowserSystem({
    // 30 pieces 80 ms apart: the primary's cut comes after 8 of them, in view of the page.
    fakeScript: async (request, n) => {
      if (n === 1) await pageReady;
      if (n === 1) return { ...streamedAnswer(request, { chunks: 30, delayMs: 80, text: ANSWER }), breakAfterEvents: CUT_AFTER_CHUNKS + 1 };
      const asFallback = { ...request, body: { ...(request.body as Record<string, unknown>), model: FALLBACK } };
      return streamedAnswer(asFallback, { chunks: 30, delayMs: 80, text: ANSWER });
    },
    serverEnv: CHAIN,
    workerEnv: { PROVIDER_TIMEOUT_MS: '30000', ...CHAIN },
  });
  ({ server, browser } = system);
  fake = system.fake!;
}, 180_000);

afterAll(() => system?.stop());

describe('model chains in the browser', () => {
  it("names each attempt's model live, in the timeline and in the calls, after the primary's stream is cut", async () => {
    const task = await submitTask(server, SAMPLE_TEXT);
    const { page, problems, close } = await openPage(browser, `${server.url}/tasks/${task.id}`);
    pageOpen();
    try {
      // Every text shown is a start of the answer: the cut attempt's text is replaced, never continued.
      const seen: { text: string; label: string }[] = [];
      // The text and its label are read in one step in the page: read one after the other, a
      // reset landing between them paired the last attempt's text with the next one's label.
      const sample = async () => {
        const now = await page
          .evaluate(() => ({
            text: document.querySelector('[data-testid="output"]')?.textContent ?? '',
            label: document.querySelector('[data-testid="output-attempt"]')?.textContent ?? '',
          }))
          .catch(() => ({ text: '', label: '' }));
        if (now.text) seen.push(now);
        return now.text;
      };
      await waitFor(async () => (await sample()).length > 0 && /attempt 2/.test(seen.at(-1)!.label), {
        timeoutMs: 30_000,
        intervalMs: 20,
        message: 'the second attempt to write',
      });
      await page.locator('[data-testid="result"]').waitFor({ timeout: 30_000 });

      const done = await waitForTask(server, task.id, 'COMPLETED');
      expect(done.result).toBe(ANSWER);
      expect((await page.locator('[data-testid="result"]').textContent())?.trim()).toBe(ANSWER);
      for (const { text } of seen) expect(ANSWER.startsWith(text), text).toBe(true);
      // The first attempt wrote part of the answer, then the second started over.
      const firstAttempt = seen.filter((entry) => /attempt 1/.test(entry.label));
      expect(firstAttempt.length).toBeGreaterThan(0);
      const secondStart = seen.findIndex((entry) => /attempt 2/.test(entry.label));
      expect(seen[secondStart]!.text.length).toBeLessThan(seen[secondStart - 1]?.text.length ?? Number.POSITIVE_INFINITY);

      expect(fake.requests.map((request) => request.servedModel)).toHaveLength(2);
      const { history, perCall } = await modelsOf(task.id);
      // The calls: each names the model the fake answered with.
      expect(perCall.map((call) => [call.attempt, call.model])).toEqual([
        [1, PRIMARY],
        [2, FALLBACK],
      ]);
      const callRows = page.locator('[data-testid="usage-calls"] tbody tr');
      await waitFor(async () => (await callRows.count()) === 2, { timeoutMs: 10_000, message: 'both calls in the table' });
      expect(await page.locator('[data-testid="call-model"]').allTextContents()).toEqual([PRIMARY, FALLBACK]);
      expect(await callRows.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-model')))).toEqual([PRIMARY, FALLBACK]);

      // The timeline: the attempt-ending steps name the models the API reports, in its order.
      const named = history.filter((step) => step.model !== null);
      expect(named.map((step) => step.model)).toEqual([PRIMARY, FALLBACK]);
      expect(await page.locator('[data-testid="step-model"]').allTextContents()).toEqual([PRIMARY, FALLBACK]);
      const places = named.filter((step) => step.chainIndex !== null).map((step) => `(${step.chainIndex === 0 ? 'primary' : `fallback ${step.chainIndex}`})`);
      expect(await page.locator('[data-testid="step-chain"]').allTextContents()).toEqual(places);
      const switches = history.filter((step) => step.switchReason !== null);
      expect(await page.locator('[data-testid="step-switch"]').count()).toBe(switches.length);
      if (switches.length > 0) expect(switches.map((step) => step.switchReason)).toEqual(['STREAM_BROKEN']);

      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, 'task-models', { fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
