/**
 * The fake OpenRouter's models: how each model behaves (down, rate limited, failing a share of
 * calls, cutting streams, refusing long prompts or flagged content), and OpenRouter's `models`
 * parameter: the models a request names are tried in order, and an error before any output
 * moves on to the next one on the server side, so the caller gets one answer (and one bill)
 * from the first model that serves, or the error of the last one tried. The answer names the
 * model that served (`model` in the body and every chunk), as OpenRouter's do.
 *
 * A model without a behaviour always serves. The server (fake-openrouter.ts) asks `route` which
 * model serves a request, then scripts and sends the answer as that model's.
 */
import { fakePromptTokens } from './fake-openrouter-billing.ts';
import { errorAnswer, toStreamEvents, type ChatCompletionBody, type FakeAnswer } from './fake-openrouter-answers.ts';

export interface FakeModelBehaviour {
  /** Every call fails before output: 503, no endpoint serves the model. */
  down?: boolean;
  /** Every call is refused with a 429 (the model's providers are rate limited upstream). */
  rateLimited?: boolean;
  /** The share of calls (0 to 1) that fail before output, each with one of `failStatuses`. */
  failRate?: number;
  /** Statuses a failing call answers with, picked at random. Default [429, 500, 502, 503]. */
  failStatuses?: number[];
  /** Streams break (the connection drops) after this many text chunks. */
  breakAfterChunks?: number;
  /** The share of streams (0 to 1) that break, with `breakAfterChunks`. Default 1. */
  breakRate?: number;
  /** Prompts of more tokens than this are refused: 400, OpenRouter's context-length message. */
  maxContextTokens?: number;
  /** Prompts are refused by the content filter (403): all of them, or those matching. */
  contentFilter?: boolean | RegExp;
  /** A streamed answer comes in this many pieces (default a word each). */
  chunks?: number;
  /** Pause between a stream's events. */
  chunkDelayMs?: number;
}

/** How one model of a request fared at the fake. */
export interface ModelTry {
  model: string;
  /** 200 for the model that served; else the status it failed with. */
  status: number;
}

/** Which model serves a request, and how the ones before it failed. */
export type Routing =
  /** `model` serves; `shape` turns the scripted answer into its answer (its model, chunks, a break). */
  | { served: true; model: string; tries: ModelTry[]; shape(answer: FakeAnswer): FakeAnswer }
  /** Every model failed before output: `answer` is the last one's error. */
  | { served: false; tries: ModelTry[]; answer: FakeAnswer };

export interface FakeModelsOptions {
  /** Behaviour per model; a model not listed always serves. */
  models?: Record<string, FakeModelBehaviour>;
  /** Server-side fallback over the `models` parameter (OpenRouter's). Default true; false answers with the first model's error. */
  serverFallback?: boolean;
  /** The source of the failure shares (seed it for a repeatable run). Default Math.random. */
  random?: () => number;
}

/** A small seeded generator (mulberry32): the same seed gives the same failures. */
export { seeded as seededRandom } from './seeded-random.ts';

const DEFAULT_FAIL_STATUSES = [429, 500, 502, 503];

/** The message and body OpenRouter answers a failing status with. */
function failure(model: string, status: number): FakeAnswer {
  if (status === 429) return errorAnswer(429, `${model} is temporarily rate-limited upstream. Please retry shortly.`, { provider_name: 'Fake' });
  if (status === 503) return errorAnswer(503, `No endpoints available for ${model}: the provider is down`, { provider_name: 'Fake' });
  return errorAnswer(status, `Upstream error from ${model}`, { provider_name: 'Fake' });
}

/** The models a request names, in order: `models` (OpenRouter's fallback list) after `model` when it is not in it. */
export function requestedModels(body: unknown): string[] {
  const { model, models } = (body ?? {}) as { model?: unknown; models?: unknown };
  const list = Array.isArray(models) ? models.filter((m): m is string => typeof m === 'string' && m !== '') : [];
  if (typeof model === 'string' && model !== '' && !list.includes(model)) list.unshift(model);
  return list.length > 0 ? list : ['fake/model'];
}

function userText(body: unknown): string {
  const messages = (body as { messages?: { role?: string; content?: unknown }[] } | null)?.messages ?? [];
  return messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n');
}

export function createFakeModels(options: FakeModelsOptions = {}) {
  const behaviours = new Map(Object.entries(options.models ?? {}));
  let serverFallback = options.serverFallback ?? true;
  const random = options.random ?? Math.random;

  /** The error `model` fails this request with before any output, or null when it serves. */
  function refusal(model: string, body: unknown): { status: number; answer: FakeAnswer } | null {
    const b = behaviours.get(model);
    if (!b) return null;
    if (b.down) return { status: 503, answer: failure(model, 503) };
    if (b.rateLimited) return { status: 429, answer: failure(model, 429) };
    const promptTokens = fakePromptTokens(body);
    if (b.maxContextTokens !== undefined && promptTokens > b.maxContextTokens) {
      const message = `This endpoint's maximum context length is ${b.maxContextTokens} tokens. However, you requested about ${promptTokens} tokens. Please reduce the length of the messages.`;
      return { status: 400, answer: errorAnswer(400, message, { provider_name: 'Fake', code: 'context_length_exceeded' }) };
    }
    if (b.contentFilter && (b.contentFilter === true || b.contentFilter.test(userText(body)))) {
      const message = `${model} requires moderation: your input was flagged by the content filter`;
      return { status: 403, answer: errorAnswer(403, message, { reasons: ['flagged'], flagged_input: userText(body).slice(0, 100), provider_name: 'Fake', model_slug: model }) };
    }
    if (b.failRate && random() < b.failRate) {
      const statuses = b.failStatuses?.length ? b.failStatuses : DEFAULT_FAIL_STATUSES;
      const status = statuses[Math.floor(random() * statuses.length)]!;
      return { status, answer: failure(model, status) };
    }
    return null;
  }

  /** The answer `model` sends for the scripted `answer`: named after it, in its pieces, broken where it breaks. */
  function shaped(model: string, answer: FakeAnswer, streamed: boolean): FakeAnswer {
    const b = behaviours.get(model);
    // A scripted answer that names its own model keeps it (a script may stand for a router's own choice).
    const scripted = answer.body && typeof answer.body === 'object' ? (answer.body as ChatCompletionBody) : null;
    const body = scripted ? ({ ...scripted, model: scripted.model ?? model } as ChatCompletionBody) : answer.body;
    const next: FakeAnswer = { ...answer, body };
    if (!b || !streamed || answer.stream === false || (answer.status ?? 200) !== 200 || typeof body !== 'object' || body === null) return next;
    if (b.chunks !== undefined || b.breakAfterChunks !== undefined) next.events = answer.events ?? toStreamEvents(body as ChatCompletionBody, b.chunks);
    if (b.chunkDelayMs !== undefined) next.eventDelayMs = b.chunkDelayMs;
    if (b.breakAfterChunks !== undefined && random() < (b.breakRate ?? 1)) {
      // The first event is the keep-alive comment: the break comes after that many text chunks.
      next.breakAfterEvents = b.breakAfterChunks + 1;
    }
    return next;
  }

  return {
    /** Which model serves a request with this body (see Routing). */
    route(body: unknown): Routing {
      const tries: ModelTry[] = [];
      let last: FakeAnswer | null = null;
      for (const model of requestedModels(body)) {
        const refused = refusal(model, body);
        if (!refused) {
          tries.push({ model, status: 200 });
          const streamed = (body as { stream?: unknown } | null)?.stream === true;
          return { served: true, model, tries, shape: (answer) => shaped(model, answer, streamed) };
        }
        tries.push({ model, status: refused.status });
        last = refused.answer;
        if (!serverFallback) break;
      }
      return { served: false, tries, answer: last! };
    },
    /** Sets (or with null clears) a model's behaviour from the next request on. */
    setModel(model: string, behaviour: FakeModelBehaviour | null): void {
      if (behaviour) behaviours.set(model, behaviour);
      else behaviours.delete(model);
    },
    setServerFallback(on: boolean): void {
      serverFallback = on;
    },
  };
}
