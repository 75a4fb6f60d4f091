/**
 * Starts the real API server (on port 0) and real workers in-process against a test Redis,
 * and talks to them the way clients do: HTTP POST for queries and mutations, graphql-ws
 * for subscriptions.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createApp, type AppHooks } from '../../server/app.ts';
import { loadConfig as loadServerConfig } from '../../server/config.ts';
import { loadConfig as loadWorkerConfig } from '../../worker/config.ts';
import { createWorker, type WorkerHooks } from '../../worker/worker.ts';
import { defaultAnswer, errorAnswer, type FakeAnswer, type FakeOpenRouter, type RecordedRequest } from '../../tools/fake-openrouter.ts';
import { recordError } from './error-watch.ts';
import { testLogger } from './silent-logger.ts';
import { waitFor } from './wait-for.ts';

export type Env = Record<string, string | undefined>;

export interface RunningServer {
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

/** `hooks`: what main.ts would pass (a tracing, say). */
export async function startServer(redisUrl: string, env: Env = {}, hooks: AppHooks = {}): Promise<RunningServer> {
  const config = loadServerConfig({
    NODE_ENV: 'test',
    REDIS_URL: redisUrl,
    PORT: '0',
    SERVE_CLIENT: 'false',
    QUEUE_STATUS_COALESCE_MS: '20',
    // Tests submit in bursts; the rate limit has its own tests.
    SUBMIT_RATE_LIMIT: 'off',
    ...env,
  });
  const app = createApp(config, testLogger('server'), hooks);
  const url = await app.start();
  // The server listens before Redis is connected; tests start once it is ready.
  await waitFor(async () => (await fetch(`${url}/ready`)).ok, { timeoutMs: 10_000, message: 'the server to be ready' });
  return { url, wsUrl: url.replace(/^http/, 'ws') + '/graphql', stop: app.stop };
}

export type TestWorker = ReturnType<typeof createWorker>;

/** `hooks`: what main.ts would pass (a tracing, say). */
export async function startWorker(redisUrl: string, env: Env = {}, hooks: WorkerHooks = {}): Promise<TestWorker> {
  const config = loadWorkerConfig({
    REDIS_URL: redisUrl,
    HEARTBEAT_INTERVAL_MS: '200',
    STALL_INTERVAL_MS: '500',
    RETRY_DELAY_SCALE: '0.001',
    ...env,
  });
  const worker = createWorker(config, testLogger('worker'), hooks);
  await worker.start();
  return worker;
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string; details?: Record<string, unknown> } }[];
}

/** A POST to /graphql with JSON, as urql sends it; with `apiKey`, as that key's holder. */
export async function graphql<T = Record<string, unknown>>(
  server: { url: string },
  query: string,
  variables: Record<string, unknown> = {},
  apiKey?: string,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...body };
}

/** A POST to /graphql with any body and headers, answered as text: for requests `graphql` would not send. */
export async function rawGraphQL(server: { url: string }, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/** A graphql-ws client as the web app makes one (lazy, no retries); its `error` events go to the error watch. */
export function wsClient(server: { wsUrl: string }, options: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  return createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    ...options,
    on: {
      ...options.on,
      error: (error) => {
        recordError('graphql-ws client', error);
        options.on?.error?.(error);
      },
    },
  });
}

export interface Subscription<T> {
  events: T[];
  errors: unknown[];
  completed: boolean;
  /** A feed without a snapshot said it is live (its first message: `extensions.live`). */
  live: boolean;
  /** Resolves once the feed said it is live. */
  waitLive(timeoutMs?: number): Promise<void>;
  /** Resolves with the first event that matches. */
  waitFor(predicate: (event: T) => boolean, timeoutMs?: number): Promise<T>;
  dispose(): void;
}

/** Subscribes and records every event; `field` picks the payload out of `data`. */
export function subscribe<T>(client: Client, query: string, variables: Record<string, unknown>, field: string): Subscription<T> {
  const subscription: Subscription<T> = {
    events: [],
    errors: [],
    completed: false,
    live: false,
    waitLive: async (timeoutMs = 10_000) => {
      await waitFor(() => subscription.live, { timeoutMs, message: `${field} to be live` });
    },
    waitFor: (predicate, timeoutMs = 10_000) =>
      waitFor(() => subscription.events.find(predicate), { timeoutMs, message: `a ${field} event` }),
    dispose: () => dispose(),
  };
  const dispose = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (result) => {
        if ((result.extensions as { live?: boolean } | undefined)?.live === true) subscription.live = true;
        if (result.errors) subscription.errors.push(...result.errors);
        if (result.data?.[field]) subscription.events.push(result.data[field]!);
      },
      error: (error) => subscription.errors.push(error),
      complete: () => {
        subscription.completed = true;
      },
    },
  );
  return subscription;
}

export const TASK_FIELDS = `id state version progress result retryCount maxRetries workerId content createdAt updatedAt startedAt completedAt
  errors { errorClass message httpStatus attempt at nextAttemptAt } history { state at workerId reason version } usage { model promptTokens completionTokens totalTokens }`;

export interface TaskView {
  id: string;
  state: string;
  version: number;
  progress: number;
  result: string | null;
  retryCount: number;
  maxRetries: number;
  workerId: string | null;
  content: string;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  errors: { errorClass: string; message: string; httpStatus: number | null; attempt: number; at: string; nextAttemptAt: string | null }[];
  history: { state: string; at: string; workerId: string | null; reason: string | null; version: number }[];
  usage: { model: string; promptTokens: number | null; completionTokens: number | null; totalTokens: number | null } | null;
}

export async function submitTask(server: { url: string }, content: string, extra: Record<string, unknown> = {}, apiKey?: string) {
  const response = await graphql<{ submitTask: TaskView }>(
    server,
    `mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { ${TASK_FIELDS} } }`,
    { input: { content, ...extra } },
    apiKey,
  );
  if (!response.data) throw new Error(`submitTask failed: ${JSON.stringify(response.errors)}`);
  return response.data.submitTask;
}

export async function getTask(server: { url: string }, id: string, apiKey?: string): Promise<TaskView | null> {
  const response = await graphql<{ task: TaskView | null }>(server, `query ($id: ID!) { task(id: $id) { ${TASK_FIELDS} } }`, { id }, apiKey);
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data!.task;
}

export interface WaitForTaskOptions {
  timeoutMs?: number;
  intervalMs?: number;
  apiKey?: string;
  message?: string;
}

/**
 * Polls the task over GraphQL until it is in `state` (or one of `states`), or matches
 * `predicate`; resolves with it. Fails after `timeoutMs` (10 s) naming the task.
 */
export function waitForTask(
  server: { url: string },
  id: string,
  until: string | readonly string[] | ((task: TaskView) => boolean),
  options: WaitForTaskOptions = {},
): Promise<TaskView> {
  const matches =
    typeof until === 'function' ? until : (task: TaskView) => (typeof until === 'string' ? [until] : until).includes(task.state);
  const wanted = typeof until === 'function' ? 'to match' : `to be ${String(until)}`;
  return waitFor(
    async () => {
      const task = await getTask(server, id, options.apiKey);
      return task && matches(task) ? task : null;
    },
    { timeoutMs: options.timeoutMs ?? 10_000, intervalMs: options.intervalMs ?? 20, message: options.message ?? `task ${id} ${wanted}` },
  );
}

/**
 * Resolves once worker `workerId` reports, in a heartbeat sent after `since` (ms epoch), that it
 * runs no task: every attempt it had then is over, with all its writes.
 */
export async function waitForIdleWorker(server: { url: string }, workerId: string, since: number, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    async () => {
      const answer = await graphql<{ workers: { id: string; activeTasks: number; lastHeartbeatAt: string }[] }>(server, '{ workers { id activeTasks lastHeartbeatAt } }');
      const worker = answer.data?.workers.find((candidate) => candidate.id === workerId);
      return worker !== undefined && worker.activeTasks === 0 && Date.parse(worker.lastHeartbeatAt) > since;
    },
    { timeoutMs, intervalMs: 50, message: `worker ${workerId} to report no running task` },
  );
}

/** What a worker needs to call `fake` as its OpenRouter. */
export const fakeProviderEnv = (fake: FakeOpenRouter): Record<string, string> => ({ OPENROUTER_API_KEY: 'sk-test', OPENROUTER_BASE_URL: fake.baseUrl });

/**
 * A fake provider script: content marked `CLASS-A` fails PERMANENT (401), `CLASS-B` is
 * refused by the content filter (CONTENT_FILTER), the rest succeeds. Both go to the DLQ at once.
 */
export const failByClassMarker = (request: RecordedRequest): FakeAnswer => {
  const text = JSON.stringify(request.body);
  if (text.includes('CLASS-A')) return errorAnswer(401, 'Unauthorized');
  if (text.includes('CLASS-B')) return { status: 200, body: { choices: [{ finish_reason: 'content_filter', message: { content: '' } }] } };
  return defaultAnswer(request);
};

/** A fake provider script: content marked `SLOW-<ms>` is answered after that many ms, the rest at once. */
export const slowWhenMarked = (request: RecordedRequest): FakeAnswer => {
  const slow = /SLOW-(\d+)/.exec(JSON.stringify(request.body));
  return { ...defaultAnswer(request), ...(slow ? { delayMs: Number(slow[1]) } : {}) };
};

/** One chunk of a task's live output, as the taskOutput subscription sends it. */
export interface OutputChunk {
  cursor: string;
  attempt: number;
  text: string;
  reset: boolean;
  final: boolean;
  /** When it arrived in the test (ms), where a test records it. */
  at?: number;
}

/** The text a client shows for these chunks: each appended, a reset starting over. */
export const assembleOutput = (chunks: readonly OutputChunk[]) => chunks.reduce((text, chunk) => (chunk.reset ? chunk.text : text + chunk.text), '');

export const SAMPLE_TEXT =
  'Redis is an in-memory data store used as a database, cache and message broker. ' +
  'It keeps data structures such as lists, hashes and sorted sets. ' +
  'Job queues are often built on Redis lists because pushing and popping is atomic. ' +
  'Persistence comes from snapshots or an append-only file. The weather was nice.';

/** One series' value on the server's GET /metrics (`name{labels}` exactly), or undefined when absent. */
export async function metricSample(server: { url: string }, series: string): Promise<number | undefined> {
  const response = await fetch(`${server.url}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const line = (await response.text()).split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
