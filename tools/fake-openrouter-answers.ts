/**
 * The fake OpenRouter's scripted answers: what a test says the next call gets (a status, a
 * body, server-sent events, delays, a break), and the builders of the usual ones. The server
 * (fake-openrouter.ts) sends them and bills them.
 */
import type { IncomingMessage } from 'node:http';
import { fakePromptTokens, fakeTokenCount } from './fake-openrouter-billing.ts';
import type { ModelTry } from './fake-openrouter-models.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  at: number;
  /** Set when the caller hung up before the answer was sent (an aborted call). */
  abortedAt?: number;
  /** Server-sent events written so far (a streamed answer). */
  eventsSent?: number;
  /** The id of the generation a chat-completions call is billed under, if the fake answers it with 200. */
  generationId?: string;
  /** The model that served the call (fake-openrouter-models.ts), when one did. */
  servedModel?: string;
  /** The models the call named, in the order tried, and how each fared (200 for the one that served). */
  modelTries?: ModelTry[];
}

export interface FakeAnswer {
  status?: number;
  /**
   * An object is sent as JSON; a string is sent as it is (for broken bodies). A successful
   * chat completion is streamed as server-sent events when the request asked for a stream.
   */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** False: one JSON body even when the request asked for a stream (as some upstreams answer). */
  stream?: boolean;
  /** Explicit server-sent events: each a `data:` payload, or a `:` comment line. */
  events?: string[];
  /** Pause between events. */
  eventDelayMs?: number;
  /** Drop the connection after this many events (a stream that breaks mid-answer). */
  breakAfterEvents?: number;
  /**
   * Leave the usage out of the answer (the JSON body's `usage`, the last chunk's): the call is
   * billed all the same, and only the generation endpoint tells what it cost.
   */
  omitUsage?: boolean;
  /** Prompt tokens read from the provider's cache, reported (and charged at the full price). */
  cachedTokens?: number;
  /** Reasoning tokens the model spent, reported and billed as completion tokens. */
  reasoningTokens?: number;
}

export interface ChatCompletionBody {
  id?: string;
  model?: string;
  choices?: { message?: { content?: string }; finish_reason?: string }[];
  usage?: unknown;
}

/**
 * The events OpenRouter would stream for this whole answer: a keep-alive, the text (a word per
 * event, or in `pieces` even parts), the end with usage. The fake server writes its own bill
 * into the last chunk's `usage` as it sends it.
 */
export function toStreamEvents(answer: ChatCompletionBody, pieces?: number): string[] {
  const content = answer.choices?.[0]?.message?.content ?? '';
  const words = !content ? [] : pieces ? splitEvenly(content, pieces) : content.split(/(?<= )/);
  const id = answer.id ?? 'gen-stream';
  const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ id, object: 'chat.completion.chunk', model: answer.model, choices: [{ index: 0, delta, ...extra }] });
  return [
    ': OPENROUTER PROCESSING',
    ...words.map((word) => chunk({ role: 'assistant', content: word }, { finish_reason: null })),
    JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      model: answer.model,
      choices: [{ index: 0, delta: {}, finish_reason: answer.choices?.[0]?.finish_reason ?? 'stop' }],
      // Present even when unknown here: the key marks the chunk the server writes its bill into.
      usage: answer.usage ?? null,
    }),
    '[DONE]',
  ];
}

/** `text` cut into `pieces` parts of nearly equal length (whole code points; fewer when it is short). */
export function splitEvenly(text: string, pieces: number): string[] {
  const points = Array.from(text);
  const size = Math.max(1, Math.ceil(points.length / Math.max(1, pieces)));
  const parts: string[] = [];
  for (let i = 0; i < points.length; i += size) parts.push(points.slice(i, i + size).join(''));
  return parts;
}

/**
 * `answer` (by default the plausible one) streamed slowly: its text in `chunks` pieces, `delayMs`
 * apart. For demos and tests of live output; the worker itself never paces anything.
 */
export function streamedAnswer(request: RecordedRequest, options: { chunks: number; delayMs: number; text?: string }): FakeAnswer {
  const answer = defaultAnswer(request);
  const body = answer.body as ChatCompletionBody;
  if (options.text !== undefined) body.choices = [{ finish_reason: 'stop', message: { content: options.text } }];
  return { ...answer, events: toStreamEvents(body, options.chunks), eventDelayMs: options.delayMs };
}

/** Decides the answer to the n-th (1-based) chat-completions request. */
export type FakeScript = (request: RecordedRequest, n: number) => FakeAnswer | Promise<FakeAnswer>;

/** What OpenRouter's key endpoint says about a valid key with no credit limit and no usage. */
export const unlimitedKey = (): FakeAnswer => ({
  status: 200,
  body: { data: { label: 'fake-key', usage: 0, limit: null, limit_remaining: null, is_free_tier: false } },
});

export interface ChatRequestBody {
  model?: string;
  messages?: { role: string; content: string }[];
}

/**
 * A plausible successful answer: the first sentence of the user's text, with usage (by the
 * fake's token rule; the server writes its bill over it, cost included).
 */
export function defaultAnswer(request: RecordedRequest): FakeAnswer {
  const body = request.body as ChatRequestBody;
  const text = body.messages?.find((m) => m.role === 'user')?.content ?? '';
  const firstSentence = text.split(/(?<=[.!?。])\s*/)[0] ?? text;
  const content = `Summary: ${firstSentence}`;
  const promptTokens = fakePromptTokens(body);
  const completionTokens = fakeTokenCount(content);
  return {
    status: 200,
    body: {
      id: request.generationId ?? `gen-${request.at}`,
      object: 'chat.completion',
      created: Math.floor(request.at / 1000),
      model: body.model ?? 'fake/model',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    },
  };
}

/** OpenRouter's error body for `status`. */
export function errorAnswer(status: number, message: string, metadata?: Record<string, unknown>): FakeAnswer {
  return { status, body: { error: { code: status, message, ...(metadata ? { metadata } : {}) } } };
}

/**
 * OpenRouter's 402 when the account's in-flight spending budget is full for now (paid requests
 * under way or still settling): transient, with a Retry-After in seconds.
 */
export function inFlightBudgetAnswer(retryAfterSeconds: number): FakeAnswer {
  return {
    ...errorAnswer(402, 'In-flight budget exhausted: wait for requests under way to settle, or add credits', {
      reason: 'in_flight_budget_exhausted',
      limit_source: 'openrouter_in_flight_budget',
    }),
    headers: { 'retry-after': String(retryAfterSeconds) },
  };
}

/** OpenRouter's 402 when one request's estimated cost is larger than the whole in-flight budget: never succeeds as it is. */
export function weightExceedsBudgetAnswer(): FakeAnswer {
  return errorAnswer(402, 'This request requires more credits, or fewer max_tokens, than the in-flight budget allows', {
    reason: 'weight_exceeds_budget',
    limit_source: 'openrouter_credits',
  });
}
