/**
 * Model prices for reservations and estimates, from OpenRouter's models endpoint
 * (`GET {baseUrl}/models`: `{ data: [{ id, pricing: { prompt, completion, … } }] }`, prices in
 * USD per token as decimal strings, e.g. "0.00000015"), cached, with configured prices as the
 * fallback.
 */
import type { ModelPrice } from '../../schema/src/usage.ts';

export interface PriceBookOptions {
  /** e.g. https://openrouter.ai/api/v1 (no trailing slash). */
  baseUrl: string;
  /** Sent as a Bearer token when set (the endpoint is public at OpenRouter). */
  apiKey?: string;
  /** How long a fetched list is used before it is fetched again. Default 1 hour. */
  ttlMs?: number;
  /** Prices by model from configuration: for a model the list lacks, or before any list came. */
  fallback?: Record<string, ModelPrice>;
  /** Deadline of one fetch of the list. Default 5000. */
  timeoutMs?: number;
  /** After a failed fetch, the next one waits at least this long. Default min(ttlMs, 30 s). */
  retryMs?: number;
  /** The clock (tests). Default Date.now. */
  now?: () => number;
  /** Told of each failed fetch (a log line); the book goes on with what it has. */
  onError?: (error: unknown) => void;
}

export interface PriceBook {
  /**
   * The model's price per token: from the newest list fetched (even past its TTL while the
   * endpoint fails), else the configured one, else null. Fetches the list when none is fresh
   * (concurrent calls share one fetch). Never rejects.
   */
  priceOf(model: string): Promise<ModelPrice | null>;
}

interface ModelsBody {
  data?: { id?: unknown; pricing?: { prompt?: unknown; completion?: unknown } | null }[];
}

const perToken = (value: unknown): number | null => {
  const n = typeof value === 'string' || typeof value === 'number' ? Number(value) : NaN;
  // OpenRouter lists routers (openrouter/auto) at "-1": no fixed price.
  return Number.isFinite(n) && n >= 0 ? n : null;
};

/** The prices in a models list; models without a usable price are left out. */
export function parseModelPrices(body: unknown): Map<string, ModelPrice> {
  const prices = new Map<string, ModelPrice>();
  const data = (body as ModelsBody | null)?.data;
  if (!Array.isArray(data)) throw new Error('the models list has no data array');
  for (const model of data) {
    const promptUsd = perToken(model?.pricing?.prompt);
    const completionUsd = perToken(model?.pricing?.completion);
    if (typeof model?.id === 'string' && promptUsd !== null && completionUsd !== null) prices.set(model.id, { promptUsd, completionUsd });
  }
  return prices;
}

export function createPriceBook(options: PriceBookOptions): PriceBook {
  const ttlMs = options.ttlMs ?? 3_600_000;
  const retryMs = options.retryMs ?? Math.min(ttlMs, 30_000);
  const now = options.now ?? Date.now;
  let listed: Map<string, ModelPrice> | null = null;
  // When the list may be fetched again (after a success: its TTL; after a failure: retryMs).
  let nextFetchAt = 0;
  let inFlight: Promise<void> | null = null;

  const fetchList = async () => {
    try {
      const response = await fetch(`${options.baseUrl}/models`, {
        headers: { accept: 'application/json', ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`GET /models answered HTTP ${response.status}`);
      }
      listed = parseModelPrices(await response.json());
      nextFetchAt = now() + ttlMs;
    } catch (error) {
      nextFetchAt = now() + retryMs;
      options.onError?.(error);
    }
  };

  return {
    async priceOf(model) {
      if (now() >= nextFetchAt) {
        inFlight ??= fetchList().finally(() => {
          inFlight = null;
        });
        await inFlight;
      }
      return listed?.get(model) ?? options.fallback?.[model] ?? null;
    },
  };
}
