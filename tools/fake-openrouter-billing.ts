/**
 * The fake OpenRouter's own bill: one generation for every chat-completions call it answered
 * with HTTP 200, priced from a per-model table, reported the way OpenRouter reports it (the
 * `usage` of an answer or of a stream's last chunk, `GET /generation?id=`, `GET /models`), and
 * kept so tests can compare what the worker recorded with what the provider charged.
 *
 * Rules (the fake has no real tokenizer; these stand in for OpenRouter's native counts):
 * - A text is `ceil(UTF-16 length / 4)` tokens (`fakeTokenCount`); a prompt is the sum over its
 *   messages' contents. The worker's estimate (worker/providers/usage-estimate.ts) uses the same
 *   rule, so a call cut off before it had an id is estimated at exactly what the fake billed.
 * - A generation opens, billed for its prompt, when the fake decides to answer 200 (before any
 *   scripted delay: the model has the prompt). Its completion is the text of every content piece
 *   the fake handed to the socket, counted as one text (pieces do not each round up). A stream
 *   that breaks or that the caller cuts off is billed for the prompt and the completion sent so
 *   far; the generation endpoint reports exactly that once the generation has ended.
 * - Cost is `prompt × prompt price + completion × completion price`, in dollars rounded to 1e-12
 *   (no float noise); scripted cached tokens are part of the prompt and charged at full price,
 *   scripted reasoning tokens are part of the completion.
 */
import { toNanoUsd, type ModelPrice } from '../schema/src/usage.ts';

/** What a model costs at the fake when the table does not list it: $1 / $2 per million tokens. */
export const DEFAULT_FAKE_PRICE: ModelPrice = { promptUsd: 0.000001, completionUsd: 0.000002 };

/** The fake's token count of a text: ceil(UTF-16 length / 4). */
export function fakeTokenCount(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The prompt tokens of a chat-completions request body: the sum over its messages. */
export function fakePromptTokens(body: unknown): number {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return 0;
  return messages.reduce<number>((sum, message) => sum + fakeTokenCount(contentText((message as { content?: unknown })?.content)), 0);
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  // Content parts ([{ type: 'text', text }]): only the text is counted.
  if (Array.isArray(content)) return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
  return '';
}

/** Dollars for these tokens at this price, rounded to 1e-12. */
export function fakeCost(price: ModelPrice, promptTokens: number, completionTokens: number): number {
  return Math.round((promptTokens * price.promptUsd + completionTokens * price.completionUsd) * 1e12) / 1e12;
}

/** One generation as the fake billed it. */
export interface BilledGeneration {
  generationId: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  costUsd: number;
  /** `costUsd` in integer nano-dollars, as the ledger counts it (toNanoUsd). */
  costNanoUsd: number;
  streamed: boolean;
  /** The answer was sent in full. */
  completed: boolean;
  /** Still being answered: its figures may grow, and the generation endpoint does not know it yet. */
  open: boolean;
  /** The caller hung up before the answer ended. */
  cancelled: boolean;
}

export interface FakeBill {
  generations: BilledGeneration[];
  totals: { generations: number; promptTokens: number; completionTokens: number; costUsd: number; costNanoUsd: number };
}

/** Usage as OpenRouter reports it in an answer or in a stream's last chunk. */
export interface OpenRouterUsageBody {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: number;
  is_byok: boolean;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  cost_details: { upstream_inference_cost: number | null };
  completion_tokens_details: { reasoning_tokens: number };
}

/** A generation being answered: its bill grows as text is sent. */
export interface OpenGeneration {
  readonly id: string;
  /** Bills `text` as sent (completion). */
  addCompletion(text: string): void;
  /** The usage so far, in OpenRouter's shape. */
  usage(): OpenRouterUsageBody;
  /** Ends it (first call wins): the generation endpoint reports it from now on (after the lag). */
  end(outcome: { completed: boolean; cancelled: boolean; finishReason: string | null }): void;
}

interface GenerationState {
  record: BilledGeneration;
  price: ModelPrice;
  completionChars: number;
  createdAt: number;
  endedAt: number | null;
  finishReason: string | null;
}

export interface FakeBillingOptions {
  /** Per-token prices by model; a model not listed is billed at `defaultPrice`. */
  prices?: Record<string, ModelPrice>;
  /** Default DEFAULT_FAKE_PRICE. */
  defaultPrice?: ModelPrice;
  /** How long after a generation ends the generation endpoint still answers 404, as OpenRouter does while it records one. Default 0. */
  generationLagMs?: number;
}

export function createFakeBilling(options: FakeBillingOptions = {}) {
  const prices = new Map(Object.entries(options.prices ?? {}));
  const defaultPrice = options.defaultPrice ?? DEFAULT_FAKE_PRICE;
  const generations = new Map<string, GenerationState>();
  const priceOf = (model: string) => prices.get(model) ?? defaultPrice;

  const refresh = (state: GenerationState) => {
    const record = state.record;
    // The completion counted as one text of completionChars characters (fakeTokenCount's rule).
    record.completionTokens = Math.ceil(state.completionChars / 4) + record.reasoningTokens;
    record.costUsd = fakeCost(state.price, record.promptTokens, record.completionTokens);
    record.costNanoUsd = toNanoUsd(record.costUsd);
  };

  return {
    priceOf,
    setPrice(model: string, price: ModelPrice) {
      prices.set(model, price);
    },

    /** Opens the generation of a call answered with 200, billed for its prompt. */
    open(input: { id: string; model: string; body: unknown; streamed: boolean; cachedTokens?: number; reasoningTokens?: number }): OpenGeneration {
      const promptTokens = fakePromptTokens(input.body);
      const state: GenerationState = {
        record: {
          generationId: input.id,
          model: input.model,
          promptTokens,
          completionTokens: 0,
          cachedTokens: Math.min(promptTokens, input.cachedTokens ?? 0),
          reasoningTokens: input.reasoningTokens ?? 0,
          costUsd: 0,
          costNanoUsd: 0,
          streamed: input.streamed,
          completed: false,
          open: true,
          cancelled: false,
        },
        price: priceOf(input.model),
        completionChars: 0,
        createdAt: Date.now(),
        endedAt: null,
        finishReason: null,
      };
      refresh(state);
      generations.set(input.id, state);
      return {
        id: input.id,
        addCompletion(text) {
          if (!state.record.open || !text) return;
          state.completionChars += text.length;
          refresh(state);
        },
        usage() {
          const r = state.record;
          return {
            prompt_tokens: r.promptTokens,
            completion_tokens: r.completionTokens,
            total_tokens: r.promptTokens + r.completionTokens,
            cost: r.costUsd,
            is_byok: false,
            prompt_tokens_details: { cached_tokens: r.cachedTokens, audio_tokens: 0 },
            cost_details: { upstream_inference_cost: null },
            completion_tokens_details: { reasoning_tokens: r.reasoningTokens },
          };
        },
        end(outcome) {
          if (!state.record.open) return;
          Object.assign(state.record, { open: false, completed: outcome.completed, cancelled: outcome.cancelled });
          state.endedAt = Date.now();
          state.finishReason = outcome.finishReason;
        },
      };
    },

    /**
     * `GET /generation?id=` as OpenRouter answers it (`{ data }`, snake_case), or null while the
     * generation is unknown, still open, or within the lag after it ended (OpenRouter: 404).
     */
    generationData(id: string, now = Date.now()): Record<string, unknown> | null {
      const state = generations.get(id);
      if (!state || state.endedAt === null || now < state.endedAt + (options.generationLagMs ?? 0)) return null;
      const r = state.record;
      return {
        id: r.generationId,
        upstream_id: null,
        total_cost: r.costUsd,
        cache_discount: null,
        upstream_inference_cost: null,
        created_at: new Date(state.createdAt).toISOString(),
        model: r.model,
        app_id: null,
        streamed: r.streamed,
        cancelled: r.cancelled,
        provider_name: 'Fake',
        latency: state.endedAt - state.createdAt,
        moderation_latency: null,
        generation_time: state.endedAt - state.createdAt,
        finish_reason: state.finishReason,
        native_finish_reason: state.finishReason,
        tokens_prompt: r.promptTokens,
        tokens_completion: r.completionTokens,
        native_tokens_prompt: r.promptTokens,
        native_tokens_completion: r.completionTokens,
        native_tokens_completion_images: null,
        native_tokens_reasoning: r.reasoningTokens,
        native_tokens_cached: r.cachedTokens,
        num_media_prompt: null,
        num_input_audio_prompt: null,
        num_media_completion: null,
        num_search_results: null,
        origin: '',
        usage: r.costUsd,
        is_byok: false,
        api_type: 'completions',
      };
    },

    /** `GET /models` as OpenRouter answers it: the priced models, and every model billed so far. */
    modelsData(): Record<string, unknown>[] {
      const ids = new Set([...prices.keys(), ...[...generations.values()].map((state) => state.record.model)]);
      return [...ids].map((id) => {
        const price = priceOf(id);
        return {
          id,
          canonical_slug: id,
          name: id,
          created: 0,
          description: 'A model of the fake OpenRouter.',
          context_length: 128_000,
          architecture: { modality: 'text->text', input_modalities: ['text'], output_modalities: ['text'], tokenizer: 'Other', instruct_type: null },
          pricing: { prompt: decimal(price.promptUsd), completion: decimal(price.completionUsd), request: '0', image: '0', web_search: '0', internal_reasoning: '0' },
          top_provider: { context_length: 128_000, max_completion_tokens: 16_384, is_moderated: false },
          per_request_limits: null,
          supported_parameters: ['max_tokens', 'temperature', 'stop'],
        };
      });
    },

    bill(): FakeBill {
      const records = [...generations.values()].map((state) => ({ ...state.record }));
      const totals = { generations: records.length, promptTokens: 0, completionTokens: 0, costUsd: 0, costNanoUsd: 0 };
      for (const r of records) {
        totals.promptTokens += r.promptTokens;
        totals.completionTokens += r.completionTokens;
        totals.costNanoUsd += r.costNanoUsd;
      }
      // From the integer sum: adding up floats would drift.
      totals.costUsd = totals.costNanoUsd / 1e9;
      return { generations: records, totals };
    },
  };
}

export type FakeBilling = ReturnType<typeof createFakeBilling>;

/**
 * A price as OpenRouter writes it: a decimal string, never exponent notation ("0.00000015", not
 * "1.5e-7"). Shifts the digits of the shortest form, so the string parses back to the same number.
 */
export function decimal(usd: number): string {
  const plain = String(usd);
  const match = /^(\d+)(?:\.(\d+))?e([+-]\d+)$/i.exec(plain);
  if (!match) return plain;
  const digits = match[1]! + (match[2] ?? '');
  const point = match[1]!.length + Number(match[3]);
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}
