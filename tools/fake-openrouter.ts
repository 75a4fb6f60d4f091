/**
 * A fake OpenRouter on loopback that speaks the chat-completions shape: the request body,
 * `choices[0].message.content`, `usage`, and OpenRouter's error body
 * `{ error: { code, message, metadata } }`. Each answer can be scripted per request, and
 * every request is recorded (method, path, headers, parsed body) for assertions.
 *
 * Run alone for demos: `npm run fake-provider` (FAKE_PROVIDER_PORT, default 8090), then start
 * workers with OPENROUTER_BASE_URL=http://127.0.0.1:8090/api/v1 and any OPENROUTER_API_KEY.
 * To watch output stream slowly, set FAKE_PROVIDER_CHUNKS (pieces per answer; default one per
 * word) and FAKE_PROVIDER_CHUNK_DELAY_MS (pause between pieces; default 0).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

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
  /** Explicit server-sent events: each a `data:` payload, or a `:` comment line. */
  events?: string[];
  /** Pause between events. */
  eventDelayMs?: number;
  /** Drop the connection after this many events (a stream that breaks mid-answer). */
  breakAfterEvents?: number;
}

interface ChatCompletionBody {
  model?: string;
  choices?: { message?: { content?: string }; finish_reason?: string }[];
  usage?: unknown;
}

/**
 * The events OpenRouter would stream for this whole answer: a keep-alive, the text (a word per
 * event, or in `pieces` even parts), the end with usage.
 */
export function toStreamEvents(answer: ChatCompletionBody, pieces?: number): string[] {
  const content = answer.choices?.[0]?.message?.content ?? '';
  const words = !content ? [] : pieces ? splitEvenly(content, pieces) : content.split(/(?<= )/);
  const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ id: 'gen-stream', object: 'chat.completion.chunk', model: answer.model, choices: [{ index: 0, delta, ...extra }] });
  return [
    ': OPENROUTER PROCESSING',
    ...words.map((word) => chunk({ role: 'assistant', content: word }, { finish_reason: null })),
    JSON.stringify({
      id: 'gen-stream',
      object: 'chat.completion.chunk',
      model: answer.model,
      choices: [{ index: 0, delta: {}, finish_reason: answer.choices?.[0]?.finish_reason ?? 'stop' }],
      usage: answer.usage,
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

export interface FakeOpenRouter {
  /** Base URL to use as OPENROUTER_BASE_URL. */
  baseUrl: string;
  /** Every request but the key checks. */
  requests: RecordedRequest[];
  /** The key checks (GET /key). */
  keyRequests: RecordedRequest[];
  script(next: FakeScript): void;
  /** Scripts the key endpoint (GET /key): key validity, usage and credit limit. */
  keyInfo(next: () => FakeAnswer): void;
  close(): Promise<void>;
}

/** What OpenRouter's key endpoint says about a valid key with no credit limit and no usage. */
export const unlimitedKey = (): FakeAnswer => ({
  status: 200,
  body: { data: { label: 'fake-key', usage: 0, limit: null, limit_remaining: null, is_free_tier: false } },
});

interface ChatRequestBody {
  model?: string;
  messages?: { role: string; content: string }[];
}

/** A plausible successful answer: the first sentence of the user's text, with usage. */
export function defaultAnswer(request: RecordedRequest): FakeAnswer {
  const body = request.body as ChatRequestBody;
  const text = body.messages?.find((m) => m.role === 'user')?.content ?? '';
  const firstSentence = text.split(/(?<=[.!?。])\s*/)[0] ?? text;
  const promptTokens = Math.ceil(text.length / 4);
  const completionTokens = Math.ceil(firstSentence.length / 4);
  return {
    status: 200,
    body: {
      id: `gen-${request.at}`,
      object: 'chat.completion',
      created: Math.floor(request.at / 1000),
      model: body.model ?? 'fake/model',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: `Summary: ${firstSentence}` } }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    },
  };
}

/** OpenRouter's error body for `status`. */
export function errorAnswer(status: number, message: string, metadata?: Record<string, unknown>): FakeAnswer {
  return { status, body: { error: { code: status, message, ...(metadata ? { metadata } : {}) } } };
}

export async function startFakeOpenRouter(options: { port?: number; host?: string } = {}): Promise<FakeOpenRouter> {
  const requests: RecordedRequest[] = [];
  const keyRequests: RecordedRequest[] = [];
  let script: FakeScript = defaultAnswer;
  let keyInfo: () => FakeAnswer = unlimitedKey;
  let completions = 0;

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
    (req.method === 'GET' && path.endsWith('/key') ? keyRequests : requests).push(recorded);

    if (!String(req.headers.authorization ?? '').startsWith('Bearer ')) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify(errorAnswer(401, 'No auth credentials found').body));
      return;
    }
    if (req.method === 'GET' && path.endsWith('/key')) {
      const answer = keyInfo();
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body ?? {}));
      return;
    }
    if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
      const notFound = errorAnswer(404, 'Not Found');
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(notFound.body));
      return;
    }
    completions += 1;
    res.once('close', () => {
      if (!res.writableFinished) recorded.abortedAt = Date.now();
    });
    const answer = await script(recorded, completions);
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (res.destroyed) return;
    const status = answer.status ?? 200;
    const wantsStream = (body as { stream?: boolean } | null)?.stream === true;
    const events =
      answer.events ?? (wantsStream && status === 200 && typeof answer.body === 'object' && answer.body !== null ? toStreamEvents(answer.body as ChatCompletionBody) : null);
    if (events) {
      res.writeHead(status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...answer.headers });
      for (const [index, event] of events.entries()) {
        if (answer.breakAfterEvents !== undefined && index >= answer.breakAfterEvents) {
          res.destroy();
          return;
        }
        // Wait until each event is flushed, so a break really happens mid-answer.
        await new Promise((resolve) => res.write(event.startsWith(':') ? `${event}\n\n` : `data: ${event}\n\n`, resolve));
        recorded.eventsSent = index + 1;
        if (answer.eventDelayMs) await new Promise((resolve) => setTimeout(resolve, answer.eventDelayMs));
        if (res.destroyed) return;
      }
      res.end();
      return;
    }
    const payload = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
    res.writeHead(status, { 'content-type': 'application/json', ...answer.headers });
    res.end(payload);
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/v1`,
    requests,
    keyRequests,
    script: (next) => {
      script = next;
    },
    keyInfo: (next) => {
      keyInfo = next;
    },
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
