import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createProvider } from '../worker.ts';
import type { CallUsage } from '../../schema/src/usage.ts';
import { createNoopProvider, NOOP_SUMMARY, NOOP_USAGE } from './noop.ts';

const request = (signal = new AbortController().signal) => ({ messages: [{ role: 'user' as const, content: 'Some text.' }], signal, onProgress: () => undefined, onText: () => undefined });

describe('noop provider', () => {
  it('answers at once with a fixed summary and no usage', async () => {
    expect(await createNoopProvider().complete(request())).toEqual({ text: NOOP_SUMMARY, usage: null });
  });

  it('reports usage once per call, all zeros', async () => {
    const usages: CallUsage[] = [];
    await createNoopProvider().complete({ ...request(), onUsage: (u) => usages.push(u) });
    expect(usages).toEqual([{ model: 'noop', generationId: null, promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0, costUsd: 0, estimated: false }]);
    expect(usages[0]).toEqual(NOOP_USAGE);
  });

  it('rejects an aborted call', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(createNoopProvider().complete(request(controller.signal))).rejects.toThrow('cancelled');
  });

  it('is chosen only by PROVIDER=noop, even when a key is set', () => {
    expect(createProvider(loadConfig({})).name).toBe('local');
    expect(createProvider(loadConfig({ OPENROUTER_API_KEY: 'sk-x' })).name).toBe('openrouter');
    const noop = loadConfig({ PROVIDER: 'noop', OPENROUTER_API_KEY: 'sk-x' });
    expect(createProvider(noop).name).toBe('noop');
    // No remote provider in use: no rate limit, no key checks.
    expect(noop.openRouter).toBeNull();
  });

  it('refuses an unknown PROVIDER', () => {
    expect(() => loadConfig({ PROVIDER: 'gpt' })).toThrow(/PROVIDER/);
  });
});
