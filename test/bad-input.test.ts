/**
 * Hostile and broken requests, over HTTP and WebSocket, against a production-mode server with
 * API keys. Each gets its expected status or close code and a clean answer (no stack trace, no
 * internal address, no Redis or provider error text); nothing is stored; the process stays up.
 */
import WebSocket from 'ws';
import { beforeAll, describe, expect, it } from 'vitest';
import { useSystem } from './support/fixtures.ts';
import { SAMPLE_TEXT, submitTask } from './support/system.ts';

const KEY = 'bad-input-tenant-key-0123456789';
const OTHER_KEY = 'bad-input-other-key-0123456789';
const ADMIN_KEY = 'bad-input-admin-key-0123456789';
const API_KEYS = JSON.stringify([
  { key: KEY, tenant: 'acme', scopes: ['tasks:write', 'tasks:read'] },
  { key: OTHER_KEY, tenant: 'globex', scopes: ['tasks:write', 'tasks:read'] },
  { key: ADMIN_KEY, tenant: 'ops', scopes: ['admin', 'tasks:read', 'tasks:write'] },
]);
const MAX_BODY_BYTES = 256 * 1024;

const system = useSystem({
  server: {
    NODE_ENV: 'production',
    API_KEYS,
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    WS_INIT_TIMEOUT_MS: '300',
    SUBMIT_RATE_LIMIT: 'off',
  },
});
let pendingTaskId: string;

beforeAll(async () => {
  pendingTaskId = (await submitTask(system.server, SAMPLE_TEXT, {}, KEY)).id;
});

/** What no answer may contain: internals a caller has no business seeing. */
function expectCleanAnswer(text: string): void {
  const redisPort = String(system.redis.port);
  for (const leak of [/\n\s+at /, /\.ts:\d+/, /node_modules/, new RegExp(`:${redisPort}\\b`), /ECONNREFUSED|ETIMEDOUT|WRONGTYPE|NOSCRIPT|ERR /, /ioredis|bee-queue|openrouter\.ai/i, /Did you mean/]) {
    expect(text, `answer leaks ${leak}`).not.toMatch(leak);
  }
}

const storedTasks = () => system.redis.client.zcard(system.keys.tasksAll());

interface HttpCase {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** A JSON body (serialized), or a raw string/Buffer. */
  json?: unknown;
  raw?: string | Buffer;
  key?: string | null;
  status: number;
  code?: string;
  /** A pattern the message must match. */
  message?: RegExp;
}

const submit = (content: unknown, extra: Record<string, unknown> = {}) => ({
  query: 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }',
  variables: { input: { content, ...extra } },
});
/** `depth` levels of selection (the schema has no cycle, so it is invalid too, but the depth rule must say so). */
const deepSelection = (depth: number) => `${'history { '.repeat(depth)}state${' }'.repeat(depth)}`;
const deepQuery = (depth: number) => `{ task(id: "x") { ${deepSelection(depth - 1)} } }`;

const HTTP_CASES: HttpCase[] = [
  { name: 'empty content', json: submit(''), status: 200, code: 'BAD_USER_INPUT', message: /empty/ },
  { name: 'whitespace-only content', json: submit(' \n\t \u3000 '), status: 200, code: 'BAD_USER_INPUT' },
  { name: 'zero-width-only content', json: submit('\u200b\u200c\u200d\u2060\ufeff'), status: 200, code: 'BAD_USER_INPUT' },
  { name: 'content with NUL', json: submit('Some text\u0000 with a NUL in it.'), status: 200, code: 'BAD_USER_INPUT' },
  { name: 'content with a control character', json: submit('Ring the bell \u0007 twice.'), status: 200, code: 'BAD_USER_INPUT' },
  { name: 'content with a lone surrogate', json: submit('Half a pair \ud800 of surrogates.'), status: 200, code: 'BAD_USER_INPUT' },
  { name: 'content over the byte limit in multi-byte characters', json: submit('é'.repeat(40_000)), status: 200, code: 'BAD_USER_INPUT', message: /bytes/ },
  { name: 'content over the byte limit in ASCII', json: submit('a '.repeat(40_000)), status: 200, code: 'BAD_USER_INPUT' },
  { name: 'content of the wrong type', json: submit(12345), status: 400, code: 'BAD_USER_INPUT' },
  { name: 'content missing', json: { query: 'mutation { submitTask(input: {}) { id } }' }, status: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
  { name: 'unknown task type', json: submit('Fine text here.', { type: 'TRANSLATE' }), status: 400, code: 'BAD_USER_INPUT' },
  { name: 'idempotency key too long', json: submit('Fine text here.', { idempotencyKey: 'k'.repeat(1000) }), status: 200, code: 'BAD_USER_INPUT' },
  { name: 'idempotency key with a newline', json: submit('Fine text here.', { idempotencyKey: 'a\nb' }), status: 200, code: 'BAD_USER_INPUT' },
  // SubmitTaskInput.models (this server has no OPENROUTER_ALLOWED_MODELS: the shape rules only; test/model-chain.test.ts has the allowed list).
  { name: 'models empty', json: submit('Fine text here.', { models: [] }), status: 200, code: 'BAD_USER_INPUT', message: /empty/ },
  { name: 'models of 11 models', json: submit('Fine text here.', { models: Array.from({ length: 11 }, (_, i) => `vendor/m${i}`) }), status: 200, code: 'BAD_USER_INPUT', message: /at most 10/ },
  { name: 'models naming one twice', json: submit('Fine text here.', { models: ['vendor/a', 'vendor/a'] }), status: 200, code: 'BAD_USER_INPUT', message: /twice/ },
  { name: 'models with a 201-character id', json: submit('Fine text here.', { models: [`vendor/${'m'.repeat(194)}`] }), status: 200, code: 'BAD_USER_INPUT', message: /malformed/ },
  { name: 'models with a line break in an id', json: submit('Fine text here.', { models: ['vendor/a\nb'] }), status: 200, code: 'BAD_USER_INPUT', message: /malformed/ },
  { name: 'models with a null entry', json: submit('Fine text here.', { models: ['vendor/a', null] }), status: 400, code: 'BAD_USER_INPUT' },
  { name: 'models of the wrong type', json: submit('Fine text here.', { models: [42] }), status: 400, code: 'BAD_USER_INPUT' },
  { name: 'body over the HTTP limit', json: submit('x'.repeat(MAX_BODY_BYTES + 10)), status: 413 },
  { name: 'POST as text/plain (CSRF)', headers: { 'content-type': 'text/plain' }, raw: JSON.stringify(submit('Fine text here.')), status: 400 },
  { name: 'POST as a form (CSRF)', headers: { 'content-type': 'application/x-www-form-urlencoded' }, raw: 'query=mutation', status: 400 },
  { name: 'GET mutation', method: 'GET', path: `/graphql?query=${encodeURIComponent('mutation { purgeDeadLetterQueue(confirm: true) }')}`, headers: { 'apollo-require-preflight': 'true' }, status: 405 },
  { name: 'GET without a preflight header (CSRF)', method: 'GET', path: `/graphql?query=${encodeURIComponent('{ tasks { totalCount } }')}`, headers: {}, status: 400 },
  { name: 'body that is not JSON', headers: { 'content-type': 'application/json' }, raw: '{"query": ', status: 400 },
  { name: 'empty JSON body', headers: { 'content-type': 'application/json' }, raw: '', status: 400 },
  { name: 'a batch (batching is off)', json: [submit('One text to summarize.'), submit('Two texts to summarize.')], status: 400 },
  { name: 'a query 20 levels deep', json: { query: deepQuery(20) }, status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message: /levels deep/ },
  // So many that the parser's token limit stops it before validation.
  { name: '1,000 aliases', json: { query: `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: viewer { tenant }`).join(' ')} }` }, status: 400, code: 'GRAPHQL_PARSE_FAILED' },
  { name: '40 aliases', json: { query: `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: viewer { tenant }`).join(' ')} }` }, status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message: /40 aliases/ },
  {
    name: '50 aliased submitTask',
    json: { query: `mutation { ${Array.from({ length: 50 }, (_, i) => `s${i}: submitTask(input: { content: "Text number ${i} to summarize." }) { id }`).join(' ')} }` },
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  { name: '1,000 aliased __typename', json: { query: `{ ${Array.from({ length: 1000 }, (_, i) => `t${i}: __typename`).join(' ')} }` }, status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message: /1000 aliases/ },
  { name: '11 submitTask, one past GRAPHQL_MAX_SUBMITS', json: { query: `mutation { ${Array.from({ length: 11 }, (_, i) => `s${i}: submitTask(input: { content: "Text number ${i} to summarize." }) { id }`).join(' ')} }` }, status: 400, message: /submit at most 10 tasks; this one submits 11/ },
  { name: '11 submitTask without aliases (fragments)', json: { query: `mutation { ...S } fragment S on Mutation { ${Array.from({ length: 11 }, (_, i) => `s${i}: submitTask(input: { content: "Text ${i} to summarize." }) { id }`).join(' ')} }` }, status: 400, message: /submit at most 10/ },
  { name: 'too many directives', json: { query: `{ viewer ${'@include(if: true) '.repeat(30)} { tenant } }` }, status: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
  { name: 'too many tokens', json: { query: `{ viewer { ${'tenant '.repeat(6000)} } }` }, status: 400, message: /token/i },
  {
    name: 'an expensive listing',
    json: { query: `{ ${Array.from({ length: 25 }, (_, i) => `l${i}: tasks(first: 100) { nodes { id state version content result progress errors { message errorClass attempt } history { state at reason version } } }`).join(' ')} }` },
    status: 400,
    message: /cost/,
  },
  { name: 'an unknown field (no suggestions in production)', json: { query: '{ tasks { nodez { id } } }' }, status: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
  // Key holders may introspect in production (GRAPHQL_INTROSPECTION=keys, server/test/playground.test.ts).
  { name: 'introspection in production without a key', json: { query: '{ __schema { types { name } } }' }, key: null, status: 401, code: 'UNAUTHENTICATED' },
  { name: 'a syntax error', json: { query: '{ tasks { ' }, status: 400, code: 'GRAPHQL_PARSE_FAILED' },
  { name: 'variables that are not an object', json: { query: 'query ($id: ID!) { task(id: $id) { id } }', variables: '"x"' }, status: 400 },
  { name: 'an operationName that is not in the document', json: { query: 'query A { viewer { tenant } }', operationName: 'B' }, status: 400 },
  { name: 'no API key', json: submit('Fine text here.'), key: null, status: 401, code: 'UNAUTHENTICATED' },
  { name: 'an unknown API key', json: submit('Fine text here.'), key: 'unknown-key-0123456789abcdef', status: 401, code: 'UNAUTHENTICATED' },
  { name: 'a huge API key', json: submit('Fine text here.'), key: 'k'.repeat(10_000), status: 401, code: 'UNAUTHENTICATED' },
  { name: 'a page of 1,000', json: { query: '{ tasks(first: 1000) { totalCount } }' }, status: 200, code: 'BAD_USER_INPUT' },
  { name: 'a negative page', json: { query: '{ tasks(first: -1) { totalCount } }' }, status: 200, code: 'BAD_USER_INPUT' },
  { name: 'a forged cursor', json: { query: '{ tasks(after: "not-a-cursor") { totalCount } }' }, status: 200, code: 'BAD_USER_INPUT' },
  { name: 'a bad DateTime', json: { query: '{ tasks(createdAfter: "yesterday") { totalCount } }' }, status: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
  { name: 'an audit cursor that is not one', json: { query: '{ auditLog(after: "0-0; FLUSHALL") { nodes { id } } }' }, key: ADMIN_KEY, status: 200, code: 'BAD_USER_INPUT' },
  { name: 'purge without confirm', json: { query: 'mutation { purgeDeadLetterQueue(confirm: false) }' }, key: ADMIN_KEY, status: 200, code: 'BAD_USER_INPUT' },
  { name: 'an operator action without admin', json: { query: 'mutation { purgeDeadLetterQueue(confirm: true) }' }, status: 200, code: 'FORBIDDEN' },
  { name: 'a huge id', json: { query: 'query ($id: ID!) { cancelTask: task(id: $id) { id } }', variables: { id: 'x'.repeat(100_000) } }, status: 200 },
  { name: 'the breaker reset as a form from another site', method: 'POST', path: '/health/workers/reset-circuit-breaker', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, raw: 'a=b', key: ADMIN_KEY, status: 403 },
  { name: 'the breaker reset as a form without a key', method: 'POST', path: '/health/workers/reset-circuit-breaker', headers: { 'content-type': 'application/x-www-form-urlencoded' }, raw: 'a=b', key: null, status: 401 },
  { name: 'the breaker reset with a key that is not admin', method: 'POST', path: '/health/workers/reset-circuit-breaker', raw: '', status: 403 },
  { name: 'the breaker reset from another origin', method: 'POST', path: '/health/workers/reset-circuit-breaker', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, raw: '{}', key: ADMIN_KEY, status: 403 },
  { name: 'POST /metrics', method: 'POST', path: '/metrics', raw: '', status: 405 },
  { name: 'an unknown path', method: 'GET', path: '/../../etc/passwd', status: 404 },
  { name: 'PUT /graphql', method: 'PUT', json: submit('Fine text here.'), status: 405 },
];

async function send(testCase: HttpCase) {
  const key = testCase.key === undefined ? KEY : testCase.key;
  const body = testCase.json !== undefined ? JSON.stringify(testCase.json) : testCase.raw;
  const response = await fetch(`${system.server.url}${testCase.path ?? '/graphql'}`, {
    method: testCase.method ?? 'POST',
    headers: {
      ...(testCase.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...testCase.headers,
    },
    ...(body !== undefined && testCase.method !== 'GET' ? { body } : {}),
  });
  return { status: response.status, text: await response.text() };
}

describe('bad input over HTTP', () => {
  it('has a suite of at least 40 requests', () => {
    expect(HTTP_CASES.length + WS_CASES.length).toBeGreaterThanOrEqual(40);
  });

  for (const testCase of HTTP_CASES) {
    it(`${testCase.name}: ${testCase.status}${testCase.code ? ` ${testCase.code}` : ''}, nothing stored`, async () => {
      const before = await storedTasks();
      const answer = await send(testCase);
      expect(answer.status, answer.text.slice(0, 300)).toBe(testCase.status);
      expectCleanAnswer(answer.text);
      if (testCase.code || testCase.message) {
        const errors = (JSON.parse(answer.text) as { errors?: { message: string; extensions?: { code?: string } }[] }).errors ?? [];
        if (testCase.code) expect(errors.map((error) => error.extensions?.code), answer.text.slice(0, 300)).toContain(testCase.code);
        if (testCase.message) expect(errors.map((error) => error.message).join('\n')).toMatch(testCase.message);
      }
      expect(await storedTasks()).toBe(before);
    });
  }
});

interface WsCase {
  name: string;
  /** Frames to send after the socket opens (strings or Buffers); 'INIT' sends a valid connection_init. */
  frames: (string | Buffer)[];
  key?: string;
  /** Expected close code, or 'error' for an error message on an open socket. */
  expect: number | 'error';
  errorPattern?: RegExp;
}

const init = (key = KEY) => JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } });
const sub = (id: string, query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ id, type: 'subscribe', payload: { query, variables } });

const WS_CASES: WsCase[] = [
  { name: 'no connection_init within the timeout', frames: [], expect: 4408 },
  { name: 'a 1 MiB frame', frames: [Buffer.alloc(1024 * 1024, 'a')], expect: 1009 },
  { name: 'a frame that is not JSON', frames: ['{not json'], expect: 4400 },
  { name: 'an unknown message type', frames: [JSON.stringify({ type: 'gimme' })], expect: 4400 },
  { name: 'subscribe before connection_init', frames: [sub('1', 'subscription { tasksUpdated { id } }')], expect: 4401 },
  { name: 'a second connection_init', frames: ['INIT', 'INIT'], expect: 4429 },
  { name: 'a connection_init with a bad key', frames: [JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer nope-nope-nope-nope' } })], expect: 4403 },
  { name: 'a duplicate subscription id', frames: ['INIT', sub('1', 'subscription { tasksUpdated { id } }'), sub('1', 'subscription { tasksUpdated { id } }')], expect: 4409 },
  { name: 'a query over WebSocket', frames: ['INIT', sub('1', '{ tasks { totalCount } }')], expect: 'error', errorPattern: /only subscriptions/ },
  { name: 'a mutation over WebSocket', frames: ['INIT', sub('1', 'mutation { submitTask(input: { content: "Sneaky text over a socket." }) { id } }')], expect: 'error', errorPattern: /only subscriptions/ },
  { name: 'a subscription too deep', frames: ['INIT', sub('1', `subscription { tasksUpdated { ${deepSelection(19)} } }`)], expect: 'error', errorPattern: /levels deep/ },
  { name: 'introspection over WebSocket in production', frames: ['INIT', sub('1', 'subscription { __schema { types { name } } }')], expect: 'error' },
  { name: 'a syntax error over WebSocket', frames: ['INIT', sub('1', 'subscription { tasksUpdated { ')], expect: 'error', errorPattern: /Syntax Error/ },
  { name: "another tenant's task", frames: ['INIT_OTHER', 'WATCH_PENDING'], expect: 'error', errorPattern: /not found/i },
];

/** Runs a WebSocket case: resolves with the close code, or the first error message's text. */
function runWs(testCase: WsCase): Promise<{ code: number } | { error: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(system.server.wsUrl, 'graphql-transport-ws');
    const frames = [...testCase.frames];
    // Sends frames in order; after a connection_init, waits for its ack as a client must.
    const sendUntilInit = () => {
      while (frames.length > 0) {
        const frame = frames.shift()!;
        if (frame === 'INIT' || frame === 'INIT_OTHER') {
          socket.send(init(frame === 'INIT' ? KEY : OTHER_KEY));
          return;
        }
        if (frame === 'WATCH_PENDING') socket.send(sub('w', 'subscription ($id: ID!) { taskUpdated(id: $id) { id } }', { id: pendingTaskId }));
        else socket.send(frame);
      }
    };
    socket.on('open', sendUntilInit);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: unknown };
      if (message.type === 'connection_ack') sendUntilInit();
      if (message.type === 'error' || (message.type === 'next' && (message.payload as { errors?: unknown }).errors)) {
        socket.close();
        resolve({ error: JSON.stringify(message.payload) });
      }
    });
    socket.on('close', (code) => resolve({ code }));
    socket.on('error', (error) => (error.message.includes('Max payload') ? undefined : reject(error)));
  });
}

describe('the documented limits are the true ones', () => {
  it('GRAPHQL_MAX_SUBMITS (10) submits in one operation are accepted, each selecting its record', async () => {
    const before = await storedTasks();
    const query = `mutation { ${Array.from({ length: 10 }, (_, i) => `s${i}: submitTask(input: { content: "Text number ${i} at the limit." }) { id state version createdAt }`).join(' ')} }`;
    const response = await fetch(`${system.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as { data?: Record<string, { id: string }>; errors?: unknown };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    expect(Object.keys(body.data ?? {})).toHaveLength(10);
    expect(await storedTasks()).toBe(before + 10);
  });

  it('a few aliased __typename are fine (the web client asks for them)', async () => {
    const response = await fetch(`${system.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ query: '{ a: __typename b: __typename viewer { __typename tenant } }' }),
    });
    expect(await response.json()).toEqual({ data: { a: 'Query', b: 'Query', viewer: { __typename: 'Viewer', tenant: 'acme' } } });
  });
});

describe('bad input over WebSocket', () => {
  for (const testCase of WS_CASES) {
    it(`${testCase.name}: ${testCase.expect === 'error' ? 'an error message' : `close ${testCase.expect}`}`, async () => {
      const before = await storedTasks();
      const outcome = await runWs(testCase);
      if (testCase.expect === 'error') {
        expect(outcome).toHaveProperty('error');
        const text = (outcome as { error: string }).error;
        expectCleanAnswer(text);
        if (testCase.errorPattern) expect(text).toMatch(testCase.errorPattern);
      } else {
        expect(outcome).toEqual({ code: testCase.expect });
      }
      expect(await storedTasks()).toBe(before);
    });
  }

  it('leaves the server up and working after all of it', async () => {
    expect((await fetch(`${system.server.url}/live`)).status).toBe(200);
    expect((await fetch(`${system.server.url}/ready`)).status).toBe(200);
    const task = await submitTask(system.server, `${SAMPLE_TEXT} Still here.`, {}, KEY);
    expect(task.state).toBe('PENDING');
  });
});
