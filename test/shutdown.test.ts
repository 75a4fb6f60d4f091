/**
 * Shutdown and restarts with real processes and real signals: the server's ordered stop
 * (/ready 503 first, HTTP drains, WebSockets get 1001, then Redis closes), a second signal
 * forcing exit (server and worker), and every process riding out a Redis outage on its own.
 */
import { request } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCleanAudit } from './support/audit.ts';
import { expectErrors, REDIS_OUTAGE_ERRORS, useSystem } from './support/fixtures.ts';
import { logIndex } from './support/server-process.ts';
import { getTask, SAMPLE_TEXT, slowWhenMarked, submitTask, waitForTask } from './support/system.ts';
import { elapse, waitFor } from './support/wait-for.ts';

// Servers and workers are real processes here, spawned by each test (and killed after it).
const system = useSystem({ redis: { appendOnly: true }, fake: true, server: false });
const { keys } = system;

beforeAll(() => {
  system.fake.script(slowWhenMarked);
});

const server = (env: Record<string, string> = {}) => system.spawnServer(env);
const worker = (env: Record<string, string> = {}) => system.spawnWorker({ LEASE_MS: '1000', SWEEP_INTERVAL_MS: '500', ...env });

/** Connection names of the clients connected to the test Redis now. */
const redisClientNames = async () =>
  (await system.redis.client.client('LIST') as string)
    .split('\n')
    .map((line) => /name=(\S*)/.exec(line)?.[1] ?? '')
    .filter(Boolean);

/** A POST whose body is sent in two halves: in flight until `finish()` is called. */
function slowPost(url: string) {
  const body = JSON.stringify({ query: '{ queueStatus { primary } }' });
  const half = Math.floor(body.length / 2);
  let pending: ReturnType<typeof request> | null = null;
  const response = new Promise<{ status: number; connection: string | undefined; body: string; at: number }>((resolve, reject) => {
    const req = request(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: text, at: Date.now() }));
    });
    req.on('error', reject);
    req.write(body.slice(0, half));
    pending = req;
  });
  return { response, finish: () => pending!.end(body.slice(half)) };
}

describe('server shutdown', () => {
  it('on SIGTERM: /ready 503 first, in-flight HTTP finishes, WebSockets get 1001, then Redis closes; exit 0', async () => {
    const api = await server({ SHUTDOWN_DELAY_MS: '800', SHUTDOWN_GRACE_MS: '5000' });
    const closes: { code: number; at: number }[] = [];
    const client = system.wsClient(api, { on: { closed: (event) => closes.push({ code: (event as { code: number }).code, at: Date.now() }) } });
    const updates: unknown[] = [];
    client.subscribe({ query: 'subscription { queueStatusUpdated { primary } }' }, { next: (value) => updates.push(value), error: () => undefined, complete: () => undefined });
    await waitFor(() => updates.length > 0, { message: 'the first queue status over WebSocket' });
    const inFlight = slowPost(api.url);

    api.signal('SIGTERM');
    // Still serving during the delay, but no longer ready.
    await waitFor(async () => (await fetch(`${api.url}/ready`)).status === 503, { timeoutMs: 5000, message: '/ready 503' });
    expect((await fetch(`${api.url}/live`)).status).toBe(200);
    // After the delay the listener closes: new connections are refused, the open ones live on.
    await waitFor(async () => fetch(`${api.url}/live`).then(() => false, () => true), { timeoutMs: 5000, message: 'the listener to close' });
    expect(closes).toEqual([]);

    inFlight.finish();
    const answered = await inFlight.response;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body)).toMatchObject({ data: { queueStatus: { primary: 0 } } });
    expect(answered.connection).toBe('close');

    await waitFor(() => closes.length > 0, { timeoutMs: 10_000, message: 'the WebSocket to close' });
    expect(closes[0]!.code).toBe(1001);
    expect(closes[0]!.at).toBeGreaterThanOrEqual(answered.at);
    expect(await api.exited).toBe(0);
    await client.dispose();

    const order = ['shutdown: not ready', 'shutdown: http drained', 'shutdown: websockets closed', 'shutdown: redis closed'].map((message) => logIndex(api.lines, message));
    expect(order.every((index) => index >= 0), api.lines.join('\n')).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(api.lines[order[1]!]).toContain('"drained":true');
    expect((await redisClientNames()).filter((name) => name.startsWith('atf-server'))).toEqual([]);
  });

  it('exits at once on a second signal', async () => {
    const api = await server({ SHUTDOWN_DELAY_MS: '60000' });
    api.signal('SIGTERM');
    await waitFor(async () => (await fetch(`${api.url}/ready`)).status === 503, { timeoutMs: 5000, message: '/ready 503' });
    const signalledAt = Date.now();
    api.signal('SIGTERM');
    expect(await api.exited).toBe(1);
    expect(Date.now() - signalledAt).toBeLessThan(3000);
    expect(logIndex(api.lines, 'second signal: exiting now')).toBeGreaterThanOrEqual(0);
  });
});

describe('worker shutdown', () => {
  it('closes its Redis connections after a graceful stop', async () => {
    const leaving = await worker();
    expect((await redisClientNames()).some((name) => name.includes(leaving.id))).toBe(true);
    leaving.signal('SIGTERM');
    expect(await leaving.exited).toBe(0);
    expect((await redisClientNames()).filter((name) => name.includes(leaving.id))).toEqual([]);
  });

  it('exits at once on a second signal; the task it abandoned is taken over after its lease', async () => {
    const api = await server();
    const stuck = await worker({ SHUTDOWN_GRACE_MS: '60000' });
    const task = await submitTask(api, `${SAMPLE_TEXT} SLOW-3000 second-signal.`);
    await waitFor(async () => (await getTask(api, task.id))?.state === 'ACTIVE', { message: 'the worker to claim it' });
    stuck.signal('SIGTERM');
    await waitFor(() => stuck.lines.some((line) => line.includes('"msg":"shutting down"')), { message: 'the worker to start stopping' });
    const signalledAt = Date.now();
    stuck.signal('SIGTERM');
    expect(await stuck.exited).toBe(1);
    expect(Date.now() - signalledAt).toBeLessThan(3000);

    const next = await worker();
    const done = await waitForTask(api, task.id, 'COMPLETED', { timeoutMs: 20_000, message: 'the takeover to complete it' });
    expect(done.history.filter((h) => h.state === 'ACTIVE').map((h) => h.workerId)).toEqual([stuck.id, next.id]);
    await expectCleanAudit(system.redis.client, keys, [task.id]);
  });
});

describe('Redis outage', () => {
  it('every process reconnects on its own; /ready reports the outage while it lasts', { timeout: 60_000 }, async () => {
    const { redis } = system;
    expectErrors(REDIS_OUTAGE_ERRORS, 'Redis is stopped on purpose');
    const api = await server();
    const running = await worker();
    await redis.stop();
    try {
      await waitFor(async () => (await fetch(`${api.url}/ready`)).status === 503, { timeoutMs: 5000, message: '/ready 503 while Redis is down' });
      expect((await fetch(`${api.url}/live`)).status).toBe(200);
      // /ready must keep saying 503 for as long as the outage lasts, not flip back while
      // reconnects fail: the window covers several of them (and of the worker's too).
      const OUTAGE_MS = 1500;
      await elapse(OUTAGE_MS);
      expect((await fetch(`${api.url}/ready`)).status).toBe(503);
    } finally {
      await redis.start();
    }
    await waitFor(async () => (await fetch(`${api.url}/ready`)).status === 200, { timeoutMs: 15_000, message: '/ready 200 again' });
    const task = await waitFor(async () => submitTask(api, `${SAMPLE_TEXT} After the outage.`).catch(() => null), { timeoutMs: 10_000, intervalMs: 200, message: 'a submit after the outage' });
    await waitForTask(api, task.id, 'COMPLETED', { timeoutMs: 20_000, message: 'the task to complete on the reconnected worker' });
    // The worker rode the outage out: it never exited.
    expect(running.running()).toBe(true);
  });
});
