/**
 * A provider that answers at once, without looking at the text: PROVIDER=noop. It exists so
 * benchmarks (`npm run bench`) measure the engine (API, queue, leases, events) rather than a
 * model or the embedded summarizer. Never a default; the worker logs which provider it runs.
 */
import type { CompletionRequest, CompletionResult, TextProvider } from './provider.ts';

export const NOOP_SUMMARY = 'noop';

export function createNoopProvider(): TextProvider {
  return {
    name: 'noop',
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      // Honours cancel and shutdown like any provider, even though it never waits.
      request.signal.throwIfAborted();
      return { text: NOOP_SUMMARY, usage: null };
    },
  };
}
