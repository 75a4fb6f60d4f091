/** A provider call's usage for tests of the ledger: one priced call, with each field overridable. */
import type { CallUsage } from '../../schema/src/usage.ts';

export const callUsage = (costUsd: number, extra: Partial<CallUsage> = {}): CallUsage => ({
  model: 'model/a',
  generationId: null,
  promptTokens: 100,
  completionTokens: 40,
  cachedTokens: 10,
  reasoningTokens: 5,
  costUsd,
  estimated: false,
  ...extra,
});
