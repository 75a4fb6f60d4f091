/**
 * What an OpenRouter call cost, read the ways OpenRouter tells it:
 * - the `usage` of a whole answer, or of a stream's last chunk (docs "Usage Accounting"):
 *   `prompt_tokens`, `completion_tokens`, `cost` (credits, 1 credit = 1 USD),
 *   `prompt_tokens_details.cached_tokens`, `completion_tokens_details.reasoning_tokens`;
 * - the generation endpoint, `GET /generation?id=<gen-…>` (docs "Get a generation"): `{ data }`
 *   with `total_cost`, `native_tokens_prompt|completion|cached|reasoning` (the model's own
 *   tokenizer, as in `usage`) and `tokens_prompt|completion` (a normalized count, used only when
 *   the native ones are missing). It answers 404 until OpenRouter has recorded the generation,
 *   which can take a second or more after the call ended, a cancelled stream's included.
 */
import { isModelId } from '../../schema/src/model-breakers.ts';
import type { CallUsage } from '../../schema/src/usage.ts';

/** `usage` as OpenRouter sends it. */
export interface OpenRouterUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  cost?: number;
  is_byok?: boolean;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

/** The part of `GET /generation`'s `data` read here. */
export interface OpenRouterGeneration {
  id?: string;
  model?: string;
  total_cost?: number;
  usage?: number;
  tokens_prompt?: number | null;
  tokens_completion?: number | null;
  native_tokens_prompt?: number | null;
  native_tokens_completion?: number | null;
  native_tokens_cached?: number | null;
  native_tokens_reasoning?: number | null;
  cancelled?: boolean | null;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const count = (...values: unknown[]): number => Math.round(values.find(isCount) ?? 0);

/**
 * A call's usage from the `usage` OpenRouter sent, or null when it does not say what the call
 * cost (no `cost`, or no token counts): then the generation endpoint is asked.
 */
export function callUsageFromResponse(usage: OpenRouterUsage | null | undefined, model: string, generationId: string | null): CallUsage | null {
  if (!usage || !isCount(usage.cost) || !isCount(usage.prompt_tokens) || !isCount(usage.completion_tokens)) return null;
  return {
    model,
    generationId,
    promptTokens: count(usage.prompt_tokens),
    completionTokens: count(usage.completion_tokens),
    cachedTokens: count(usage.prompt_tokens_details?.cached_tokens),
    reasoningTokens: count(usage.completion_tokens_details?.reasoning_tokens),
    costUsd: usage.cost,
    estimated: false,
  };
}

/** A call's usage from the generation endpoint's `data`, or null when it carries no cost. */
export function callUsageFromGeneration(data: OpenRouterGeneration, model: string, generationId: string): CallUsage | null {
  const cost = isCount(data.total_cost) ? data.total_cost : isCount(data.usage) ? data.usage : null;
  if (cost === null) return null;
  return {
    model: isModelId(data.model) ? data.model : model,
    generationId,
    promptTokens: count(data.native_tokens_prompt, data.tokens_prompt),
    completionTokens: count(data.native_tokens_completion, data.tokens_completion),
    cachedTokens: count(data.native_tokens_cached),
    reasoningTokens: count(data.native_tokens_reasoning),
    costUsd: cost,
    estimated: false,
  };
}

export interface GenerationLookupOptions {
  /** e.g. https://openrouter.ai/api/v1 (no trailing slash). */
  baseUrl: string;
  apiKey: string;
  /** Time for all the tries together. */
  timeoutMs: number;
  /** Pause before the second try; it doubles after each (at most 1 s). Default 100. */
  firstRetryMs?: number;
}

/** Worth asking again: not recorded yet (404), or a passing failure. A 401 or 403 will not change. */
const isPassing = (status: number) => status === 404 || status === 408 || status === 425 || status === 429 || status >= 500;

/**
 * The generation's `data`, asking `GET {baseUrl}/generation?id=` until it answers or
 * `timeoutMs` has passed; null then (or on an answer that will not change, like a 401). Never
 * throws. Runs on its own deadline, not the call's signal: it is what follows a cancel.
 */
export async function lookupGeneration(id: string, options: GenerationLookupOptions): Promise<OpenRouterGeneration | null> {
  const deadline = Date.now() + options.timeoutMs;
  let pauseMs = options.firstRetryMs ?? 100;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return null;
    let retry = true;
    try {
      const response = await fetch(`${options.baseUrl}/generation?id=${encodeURIComponent(id)}`, {
        headers: { authorization: `Bearer ${options.apiKey}`, accept: 'application/json' },
        signal: AbortSignal.timeout(left),
      });
      if (response.ok) {
        const body = (await response.json()) as { data?: OpenRouterGeneration } | null;
        if (body?.data && typeof body.data === 'object') return body.data;
      } else {
        await response.body?.cancel();
        retry = isPassing(response.status);
      }
    } catch {
      // unreachable or timed out: try again while time is left
    }
    // Another try only if it would have some time (50 ms) to answer.
    const waitMs = Math.min(pauseMs, deadline - Date.now() - 50);
    if (!retry || waitMs < 0) return null;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    pauseMs = Math.min(pauseMs * 2, 1000);
  }
}

/**
 * What a generation cost, asked of the generation endpoint within `options.timeoutMs`: for a
 * call whose worker died before it reported (the id kept from `onGeneration`). Null when the
 * endpoint does not answer in time or carries no cost. Never throws.
 */
export async function reconcileGeneration(generationId: string, model: string, options: GenerationLookupOptions): Promise<CallUsage | null> {
  const data = await lookupGeneration(generationId, options);
  return data && callUsageFromGeneration(data, model, generationId);
}
