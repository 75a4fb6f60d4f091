/**
 * A provider that answers at once, without looking at the text: PROVIDER=noop. It exists so
 * benchmarks (`npm run bench`) measure the engine (API, queue, leases, events) rather than a
 * model or the embedded summarizer. Never a default; the worker logs which provider it runs.
 */
import type { SummaryProvider, SummaryRequest, SummaryResult } from './provider.ts';

export const NOOP_SUMMARY = 'noop';

export function createNoopProvider(): SummaryProvider {
  return {
    name: 'noop',
    async summarize(request: SummaryRequest): Promise<SummaryResult> {
      // Honours cancel and shutdown like any provider, even though it never waits.
      request.signal.throwIfAborted();
      return { summary: NOOP_SUMMARY, usage: null };
    },
  };
}
