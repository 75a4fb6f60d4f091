import { describe, expect, it } from 'vitest';
import { createHoldEstimate } from './budget-estimate.ts';
import type { TextProvider } from './providers/provider.ts';
import { estimatePromptTokens } from './providers/usage-estimate.ts';
import { createSummarizeHandler, summaryMessages } from './tasks/summarize.ts';
import type { TaskHandler } from './tasks/task-handler.ts';

const price = { promptUsd: 1e-6, completionUsd: 2e-6 };
const unused: TextProvider = { name: 'unused', complete: () => Promise.reject(new Error('not called')) };
const run: TaskHandler['run'] = () => Promise.reject(new Error('not called'));

describe('a budget hold', () => {
  it("is priced from what the task's own type says it sends and may receive", async () => {
    // A second type: a longer instruction around the same content, and a larger completion cap.
    const translate: TaskHandler = { run, estimate: (content) => ({ promptTokens: 100 + Math.ceil(content.length / 4), completionTokens: 2000 }) };
    const summarize = createSummarizeHandler(unused, { maxTokens: 300 });
    const hold = createHoldEstimate({ SUMMARIZE: summarize, TRANSLATE: translate }, async () => price, 'm');
    const content = 'x'.repeat(400);

    // Nano-dollars: 1000 per prompt token, 2000 per completion token.
    const summaryTokens = estimatePromptTokens(summaryMessages(content));
    expect(await hold({ type: 'SUMMARIZE', content })).toBe(summaryTokens * 1000 + 300 * 2000);
    expect(await hold({ type: 'TRANSLATE', content })).toBe(200 * 1000 + 2000 * 2000);
  });

  it('holds nothing when the price is unknown', async () => {
    const hold = createHoldEstimate({ SUMMARIZE: createSummarizeHandler(unused, { maxTokens: 300 }) }, async () => null, 'm');
    expect(await hold({ type: 'SUMMARIZE', content: 'Some text.' })).toBe(0);
  });

  it('is priced at the dearest model the call names, since any of them may answer', async () => {
    const prices: Record<string, typeof price | null> = { cheap: price, dear: { promptUsd: 10e-6, completionUsd: 20e-6 }, unknown: null };
    const hold = createHoldEstimate({ SUMMARIZE: createSummarizeHandler(unused, { maxTokens: 300 }) }, async (model) => prices[model] ?? null, 'cheap');
    const task = { type: 'SUMMARIZE' as const, content: 'Some text.' };
    const cheap = await hold(task);
    expect(cheap).toBeGreaterThan(0);
    expect(await hold(task, ['cheap', 'unknown'])).toBe(cheap);
    expect(await hold(task, ['cheap', 'dear', 'unknown'])).toBe(cheap * 10);
    expect(await hold(task, ['unknown'])).toBe(0);
  });
});
