/**
 * What a provider call cost, as it crosses processes: the worker records one `CallUsage` per
 * call that was billed or may have been, and the ledger, the counters and the budgets are kept
 * from it. Money is counted in integer nano-dollars (1e-9 USD) so sums are exact; the API shows
 * dollars. No I/O here.
 */
import { z } from 'zod';
import { MODEL_SWITCH_REASONS } from './model-chain.ts';

export const callUsageSchema = z.object({
  /** The model that answered (the provider may route to another than the one asked for). */
  model: z.string(),
  /** The provider's id of the generation (OpenRouter: `gen-...`), for reconciliation; null when unknown. */
  generationId: z.string().nullable(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  cachedTokens: z.number().int().nonnegative(),
  reasoningTokens: z.number().int().nonnegative(),
  /** Dollars, as the provider reported them (or as estimated); 0 for the embedded summarizer. */
  costUsd: z.number().nonnegative(),
  /** True when a figure is an estimate: the call was cut off before the provider reported usage. */
  estimated: z.boolean(),
  /** The answering model's place in the attempt's chain (schema/src/model-chain.ts); null or absent when unknown. */
  chainIndex: z.number().int().nonnegative().nullable().optional(),
  /** Why the attempt ran on another model than the one before it; null or absent when it did not switch. */
  switchReason: z.enum(MODEL_SWITCH_REASONS).nullable().optional(),
});
export type CallUsage = z.infer<typeof callUsageSchema>;

export const NANO_PER_USD = 1_000_000_000;

/** Dollars to integer nano-dollars (the ledger's unit). */
export const toNanoUsd = (usd: number): number => Math.round(usd * NANO_PER_USD);
export const fromNanoUsd = (nano: number): number => nano / NANO_PER_USD;

/** A model's price per token, in dollars. */
export interface ModelPrice {
  promptUsd: number;
  completionUsd: number;
}
