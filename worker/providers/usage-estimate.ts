/**
 * Token and cost estimates, for what the provider did not report: the reservation made before a
 * call (prompt plus the completion cap) and a call cut off before its usage arrived and that the
 * generation endpoint could not account for. A rough rule, the same everywhere: a text is
 * `ceil(UTF-16 length / 4)` tokens (about right for English with GPT-style tokenizers; it
 * undercounts Chinese or Japanese, which a real tokenizer splits per character or two), and a
 * prompt is the sum over its messages. The fake OpenRouter bills by the same rule
 * (tools/fake-openrouter-billing.ts), so tests can compare estimates with its bill exactly.
 */
import type { CallUsage, ModelPrice } from '../../schema/src/usage.ts';
import { estimatePromptTokens, estimateTokens, type ChatMessage } from '../../schema/src/task-prompts.ts';

// The token rule is shared with the API server (it prices tasks for the dispatcher).
export { CHARS_PER_TOKEN, estimatePromptTokens, estimateTokens } from '../../schema/src/task-prompts.ts';

/** Dollars for these tokens at this price (0 when the price is unknown), rounded to 1e-12. */
export function costAt(price: ModelPrice | null, promptTokens: number, completionTokens: number): number {
  if (!price) return 0;
  return Math.round((promptTokens * price.promptUsd + completionTokens * price.completionUsd) * 1e12) / 1e12;
}

/**
 * The usage of a call estimated from the text sent and the text received, flagged `estimated`.
 * Cost at `price`, or 0 when it is unknown.
 */
export function estimateCallUsage(input: {
  model: string;
  generationId: string | null;
  messages: readonly ChatMessage[];
  receivedText: string;
  price: ModelPrice | null;
}): CallUsage {
  const promptTokens = estimatePromptTokens(input.messages);
  const completionTokens = estimateTokens(input.receivedText);
  return {
    model: input.model,
    generationId: input.generationId,
    promptTokens,
    completionTokens,
    cachedTokens: 0,
    reasoningTokens: 0,
    costUsd: costAt(input.price, promptTokens, completionTokens),
    estimated: true,
  };
}
