/**
 * A fake OpenRouter on loopback that speaks the chat-completions shape: the request body,
 * `choices[0].message.content`, `usage` (with `cost`, cached and reasoning tokens), and
 * OpenRouter's error body `{ error: { code, message, metadata } }`. Each answer can be scripted
 * per request (fake-openrouter-answers.ts), and every request is recorded (method, path,
 * headers, parsed body) for assertions.
 *
 * It keeps its own bill (tools/fake-openrouter-billing.ts: the token and pricing rules): every
 * call it answers with 200 is a generation with an id (`gen-…`, in the `X-Generation-Id` header
 * and the body's `id`), whose usage and cost it writes into the answer (the `usage` of a JSON
 * body, the stream's last chunk) and reports at `GET /generation?id=`; `GET /models` lists the
 * prices (default $1 / $2 per million prompt / completion tokens; `prices` sets them per model).
 * `fake.bill()` is what it charged, call by call.
 *
 * Models (tools/fake-openrouter-models.ts): each model can be given a behaviour (`models`,
 * `setModel`): down, rate limited, failing a share of calls, cutting streams after N chunks,
 * refusing long prompts or flagged content. A request's `models` list is tried in order, with
 * OpenRouter's server-side fallback before any output (one answer, one bill); the answer names
 * the model that served, and `requests[i].servedModel` records it.
 *
 * Run alone for demos: `npm run fake-provider` (FAKE_PROVIDER_PORT, default 8090), then start
 * workers with OPENROUTER_BASE_URL=http://127.0.0.1:8090/api/v1 and any OPENROUTER_API_KEY.
 * To watch output stream slowly, set FAKE_PROVIDER_CHUNKS (pieces per answer; default one per
 * word) and FAKE_PROVIDER_CHUNK_DELAY_MS (pause between pieces; default 0).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { ModelPrice } from '../schema/src/usage.ts';
import {
  defaultAnswer,
  errorAnswer,
  streamedAnswer,
  toStreamEvents,
  unlimitedKey,
  type ChatCompletionBody,
  type ChatRequestBody,
  type FakeAnswer,
  type FakeScript,
  type RecordedRequest,
} from './fake-openrouter-answers.ts';
import { createFakeBilling, type FakeBill, type FakeBillingOptions, type OpenGeneration } from './fake-openrouter-billing.ts';
import { createFakeModels, type FakeModelBehaviour, type FakeModelsOptions } from './fake-openrouter-models.ts';

export { seededRandom, requestedModels, type FakeModelBehaviour, type ModelTry } from './fake-openrouter-models.ts';
export { DEFAULT_FAKE_PRICE, fakeCost, fakeTokenCount, type BilledGeneration, type FakeBill } from './fake-openrouter-billing.ts';
export { defaultAnswer, errorAnswer, inFlightBudgetAnswer, weightExceedsBudgetAnswer, splitEvenly, streamedAnswer, toStreamEvents, unlimitedKey, type FakeAnswer, type FakeScript, type RecordedRequest } from './fake-openrouter-answers.ts';

/** Overrides an answer of the generation or models endpoint; undefined keeps the fake's own. */
export type FakeLookupScript = (request: RecordedRequest) => FakeAnswer | undefined | Promise<FakeAnswer | undefined>;

export interface FakeOpenRouter {
  /** Base URL to use as OPENROUTER_BASE_URL. */
  baseUrl: string;
  /** Every request but the key checks, the generation lookups and the model lists. */
  requests: RecordedRequest[];
  /** The key checks (GET /key). */
  keyRequests: RecordedRequest[];
  /** The generation lookups (GET /generation?id=). */
  generationRequests: RecordedRequest[];
  /** The model lists (GET /models). */
  modelRequests: RecordedRequest[];
  script(next: FakeScript): void;
  /** Scripts the key endpoint (GET /key): key validity, usage and credit limit. */
  keyInfo(next: () => FakeAnswer): void;
  /** Overrides the generation endpoint (a 404 that lasts, a 500, a delay); null restores it. */
  scriptGenerations(next: FakeLookupScript | null): void;
  /** Overrides the models endpoint; null restores it. */
  scriptModels(next: FakeLookupScript | null): void;
  /** Sets (or with null clears) a model's behaviour from the next request on (fake-openrouter-models.ts). */
  setModel(model: string, behaviour: FakeModelBehaviour | null): void;
  /** Turns OpenRouter's server-side fallback over a request's `models` on or off (default on). */
  setServerFallback(on: boolean): void;
  /** Sets a model's price from now on (the models endpoint and the calls that follow). */
  setPrice(model: string, price: ModelPrice): void;
  /** What the fake charged: one record per generation, and the totals. */
  bill(): FakeBill;
  close(): Promise<void>;
}

export interface FakeOpenRouterOptions extends FakeBillingOptions, FakeModelsOptions {
  port?: number;
  host?: string;
}

/** A new generation id, shaped like OpenRouter's (`gen-<seconds>-<random>`). */
function newGenerationId(): string {
  return `gen-${Math.floor(Date.now() / 1000)}-${randomBytes(15).toString('base64url')}`;
}

const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

/** The text a chunk (or a whole answer) carries, and its finish reason. */
function contentOf(chunk: Record<string, unknown>): { text: string; finishReason: string | null } {
  const choice = (chunk.choices as { delta?: { content?: unknown }; message?: { content?: unknown }; finish_reason?: unknown }[] | undefined)?.[0];
  const text = choice?.delta?.content ?? choice?.message?.content;
  return { text: typeof text === 'string' ? text : '', finishReason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : null };
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Writes the bill into a chunk or body that has a `usage` key (or takes it out); the text to send. */
function withBilledUsage(chunk: Record<string, unknown>, generation: OpenGeneration, answer: FakeAnswer): Record<string, unknown> {
  if (!('usage' in chunk)) return chunk;
  const { usage: _scripted, ...rest } = chunk;
  return answer.omitUsage ? rest : { ...rest, usage: generation.usage() };
}

interface Sending {
  answer: FakeAnswer;
  status: number;
  headers: Record<string, string>;
  generation: OpenGeneration | null;
}

/** Streams `events`, billing each piece of text as it is handed to the socket. */
async function sendEvents(res: ServerResponse, recorded: RecordedRequest, sending: Sending & { events: string[]; onBreak(): void }) {
  const { answer, generation } = sending;
  res.writeHead(sending.status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...sending.headers });
  let finishReason: string | null = null;
  for (const [index, event] of sending.events.entries()) {
    if (answer.breakAfterEvents !== undefined && index >= answer.breakAfterEvents) {
      sending.onBreak();
      res.destroy();
      return;
    }
    let data = event;
    const chunk = event.startsWith(':') ? null : parseObject(event);
    if (chunk && generation) {
      // The usage a chunk carries includes its own text.
      const content = contentOf(chunk);
      generation.addCompletion(content.text);
      finishReason = content.finishReason ?? finishReason;
      const billed = withBilledUsage(chunk, generation, answer);
      if (billed !== chunk) data = JSON.stringify(billed);
    }
    // Wait until each event is flushed, so a break really happens mid-answer.
    await new Promise((resolve) => res.write(event.startsWith(':') ? `${event}\n\n` : `data: ${data}\n\n`, resolve));
    recorded.eventsSent = index + 1;
    if (answer.eventDelayMs) await new Promise((resolve) => setTimeout(resolve, answer.eventDelayMs));
    if (res.destroyed) return;
  }
  generation?.end({ completed: true, cancelled: false, finishReason });
  res.end();
}

/** Sends one body; a chat completion in it is billed whole, its `usage` written by the bill. */
function sendWhole(res: ServerResponse, { answer, status, headers, generation }: Sending) {
  let payload = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
  let finishReason: string | null = null;
  const whole = typeof answer.body === 'object' && answer.body !== null ? (answer.body as Record<string, unknown>) : null;
  if (generation && whole && 'choices' in whole) {
    const content = contentOf(whole);
    generation.addCompletion(content.text);
    finishReason = content.finishReason;
    payload = JSON.stringify(withBilledUsage({ ...whole, usage: null }, generation, answer));
  }
  generation?.end({ completed: true, cancelled: false, finishReason });
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(payload);
}

export async function startFakeOpenRouter(options: FakeOpenRouterOptions = {}): Promise<FakeOpenRouter> {
  const requests: RecordedRequest[] = [];
  const keyRequests: RecordedRequest[] = [];
  const generationRequests: RecordedRequest[] = [];
  const modelRequests: RecordedRequest[] = [];
  const billing = createFakeBilling(options);
  const models = createFakeModels(options);
  let script: FakeScript = defaultAnswer;
  let keyInfo: () => FakeAnswer = unlimitedKey;
  let generationScript: FakeLookupScript | null = null;
  let modelsScript: FakeLookupScript | null = null;
  let completions = 0;

  /** Sends a scripted answer of a lookup endpoint (after its delay). */
  const sendScripted = async (res: ServerResponse, answer: FakeAnswer) => {
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (res.destroyed) return;
    const payload = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers }).end(payload);
  };

  const answerGeneration = async (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => {
    const scripted = await generationScript?.(recorded);
    if (scripted) return sendScripted(res, scripted);
    const id = new URL(req.url ?? '/', 'http://fake').searchParams.get('id') ?? '';
    const data = billing.generationData(id);
    if (!data) return sendJson(res, 404, errorAnswer(404, `Generation ${id} not found`).body);
    sendJson(res, 200, { data });
  };

  const answerModels = async (res: ServerResponse, recorded: RecordedRequest) => {
    const scripted = await modelsScript?.(recorded);
    if (scripted) return sendScripted(res, scripted);
    sendJson(res, 200, { data: billing.modelsData() });
  };

  const answerChat = async (res: ServerResponse, recorded: RecordedRequest) => {
    completions += 1;
    recorded.generationId = newGenerationId();
    let generation = null as OpenGeneration | null;
    let brokeOff = false;
    const cutOff = () => generation?.end({ completed: false, cancelled: !brokeOff, finishReason: null });
    res.once('close', () => {
      if (!res.writableFinished) recorded.abortedAt = Date.now();
      cutOff();
    });
    const routing = models.route(recorded.body);
    recorded.modelTries = routing.tries;
    let answer: FakeAnswer;
    if (routing.served) {
      recorded.servedModel = routing.model;
      // The script answers as the model that served (a fallback's answer is that model's).
      const requested = (recorded.body as { model?: unknown; models?: unknown } | null) ?? {};
      const asServed = requested.model === routing.model && requested.models === undefined ? recorded : { ...recorded, body: { ...requested, model: routing.model } };
      answer = routing.shape(await script(asServed, completions));
    } else {
      answer = routing.answer;
    }
    const status = answer.status ?? 200;
    const body = recorded.body as { model?: unknown; stream?: unknown } | null;
    const scriptedModel = (answer.body as { model?: unknown } | null)?.model;
    const wantsStream = body?.stream === true && answer.stream !== false;
    const events =
      answer.events ?? (wantsStream && status === 200 && typeof answer.body === 'object' && answer.body !== null ? toStreamEvents(answer.body as ChatCompletionBody) : null);
    const generationId = recorded.generationId;
    const open = (): OpenGeneration =>
      billing.open({
        id: generationId,
        model: typeof scriptedModel === 'string' ? scriptedModel : (recorded.servedModel ?? (typeof body?.model === 'string' ? body.model : 'fake/model')),
        body: recorded.body,
        streamed: events !== null,
        cachedTokens: answer.cachedTokens,
        reasoningTokens: answer.reasoningTokens,
      });
    // A whole answer is computed before it is sent: the model has the prompt from here on, and a
    // caller that hangs up during the delay is billed (and never learns the generation id).
    if (status === 200 && !events) {
      generation = open();
      if (res.destroyed) cutOff();
    }
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (res.destroyed) return;
    // A stream starts with its headers, generation id included (as OpenRouter's do), and the
    // model runs from then on: a caller gone before that was billed nothing.
    if (status === 200 && events) generation = open();
    const headers = { ...(generation ? { 'x-generation-id': generation.id } : {}), ...answer.headers };
    if (events) {
      await sendEvents(res, recorded, { answer, status, headers, events, generation, onBreak: () => (brokeOff = true) });
      return;
    }
    sendWhole(res, { answer, status, headers, generation });
  };

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, at: Date.now() };
    const get = (suffix: string) => req.method === 'GET' && path.endsWith(suffix);
    (get('/key') ? keyRequests : get('/generation') ? generationRequests : get('/models') ? modelRequests : requests).push(recorded);

    // The model list is public at OpenRouter; everything else needs a key.
    if (get('/models')) return answerModels(res, recorded);
    if (!String(req.headers.authorization ?? '').startsWith('Bearer ')) return sendJson(res, 401, errorAnswer(401, 'No auth credentials found').body);
    if (get('/key')) {
      const answer = keyInfo();
      return sendJson(res, answer.status ?? 200, answer.body ?? {});
    }
    if (get('/generation')) return answerGeneration(req, res, recorded);
    if (req.method !== 'POST' || !path.endsWith('/chat/completions')) return sendJson(res, 404, errorAnswer(404, 'Not Found').body);
    return answerChat(res, recorded);
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/v1`,
    requests,
    keyRequests,
    generationRequests,
    modelRequests,
    script: (next) => {
      script = next;
    },
    keyInfo: (next) => {
      keyInfo = next;
    },
    scriptGenerations: (next) => {
      generationScript = next;
    },
    scriptModels: (next) => {
      modelsScript = next;
    },
    setModel: (model, behaviour) => models.setModel(model, behaviour),
    setServerFallback: (on) => models.setServerFallback(on),
    setPrice: (model, price) => billing.setPrice(model, price),
    bill: () => billing.bill(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = Number(process.env.FAKE_PROVIDER_PORT ?? 8090);
  const chunks = Number(process.env.FAKE_PROVIDER_CHUNKS ?? 0);
  const delayMs = Number(process.env.FAKE_PROVIDER_CHUNK_DELAY_MS ?? 0);
  startFakeOpenRouter({ port }).then((fake) => {
    console.log(`fake OpenRouter listening: OPENROUTER_BASE_URL=${fake.baseUrl}`);
    fake.script((request, n) => {
      const body = request.body as ChatRequestBody;
      console.log(`#${n} model=${body.model ?? '?'} chars=${JSON.stringify(body).length}`);
      return chunks > 0 || delayMs > 0 ? streamedAnswer(request, { chunks: chunks || 20, delayMs }) : defaultAnswer(request);
    });
  });
}
