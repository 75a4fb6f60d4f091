/**
 * A provider that answers at once, without looking at the text: PROVIDER=noop. It exists so
 * benchmarks (`npm run bench`) measure the engine (API, queue, leases, events) rather than a
 * model or the embedded summarizer. Never a default; the worker logs which provider it runs.
 *
 * It reports usage like any provider, once per call, all zeros (model 'noop'): the engine's
 * usage path (ledger, counters) is part of what a benchmark measures.
 */
import type { CallUsage } from '../../schema/src/usage.ts';
import type { CompletionRequest, CompletionResult, TextProvider } from './provider.ts';

export const NOOP_SUMMARY = 'noop';

export const NOOP_USAGE: Readonly<CallUsage> = Object.freeze({
  model: 'noop',
  generationId: null,
  promptTokens: 0,
  completionTokens: 0,
  cachedTokens: 0,
  reasoningTokens: 0,
  costUsd: 0,
  estimated: false,
});

export function createNoopProvider(): TextProvider {
  return {
    name: 'noop',
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      // Honours cancel and shutdown like any provider, even though it never waits.
      request.signal.throwIfAborted();
      request.onUsage?.({ ...NOOP_USAGE });
      return { text: NOOP_SUMMARY, usage: null };
    },
  };
}
