/**
 * What every bench scenario runs against: one private redis-server (AOF on, as in
 * production), the real API server and the bench-only baselines as child processes, and
 * workers started per scenario with the no-op provider.
 */
import { join } from 'node:path';
import BeeQueue from 'bee-queue';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startScript, startService, stopService, type Service } from '../../chaos/services.ts';
import { beeQueueRedisOptions, parseRedisUrl } from '../../common/redis-connection.ts';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import type { TestRedis } from '../../test/support/redis-server.ts';

export interface BenchSystem {
  redis: TestRedis;
  quick: boolean;
  reps: number;
  log(line: string): void;
}

/** The URL a started server printed in its "server listening" line. */
function listeningUrl(service: Service): string {
  const line = service.lines.find((l) => l.includes('listening'))!;
  const parsed = JSON.parse(line) as { url?: string; port?: number };
  return parsed.url ?? `http://127.0.0.1:${parsed.port}`;
}

export interface Running {
  service: Service;
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

const wrap = (service: Service): Running => {
  const url = listeningUrl(service);
  return { service, url, wsUrl: url.replace(/^http/, 'ws') + '/graphql', stop: () => stopService(service, 8000) };
};

export async function startApiServer(system: BenchSystem, env: Record<string, string> = {}): Promise<Running> {
  return wrap(
    await startService('server', 'bench-server', {
      REDIS_URL: system.redis.url,
      PORT: '0',
      NODE_ENV: 'production',
      SERVE_CLIENT: 'false',
      LOG_LEVEL: 'info',
      // Bench measures the engine, not admission control: 50 clients would hit the default limit.
      SUBMIT_RATE_LIMIT: 'off',
      ...env,
    }),
  );
}

const BASELINES = join(import.meta.dirname, '..', 'baselines');
const WORKER_MAIN = join(import.meta.dirname, '..', '..', 'worker', 'main.ts');

/** The no-op Apollo server (HTTP mutation + graphql-ws with an in-memory PubSub). */
export async function startNoopServer(system: BenchSystem): Promise<Running> {
  return wrap(await startScript(join(BASELINES, 'noop-server.ts'), 'baseline listening', 'noop-server', { REDIS_URL: system.redis.url, PORT: '0' }));
}

export async function startRawWsServer(system: BenchSystem): Promise<Running> {
  return wrap(await startScript(join(BASELINES, 'raw-ws-server.ts'), 'baseline listening', 'raw-ws-server', { REDIS_URL: system.redis.url, PORT: '0' }));
}

/** The streaming floor (bench/baselines/raw-ws-streams.ts): `channel` routed per task to bare `ws` sockets. */
export async function startRawWsStreams(system: BenchSystem, channel: string): Promise<Running> {
  return wrap(await startScript(join(BASELINES, 'raw-ws-streams.ts'), 'baseline listening', 'raw-ws-streams', { REDIS_URL: system.redis.url, PORT: '0', BENCH_CHANNEL: channel }));
}

export async function startRawBeeWorker(system: BenchSystem, env: Record<string, string>): Promise<Service> {
  return startScript(join(BASELINES, 'raw-bee-worker.ts'), 'baseline listening', 'raw-bee-worker', { REDIS_URL: system.redis.url, ...env });
}

/** A producer for a raw bee-queue baseline queue: no worker, no events, one connection. */
export function createRawBeeProducer(system: BenchSystem, queueName: string): BeeQueue {
  return new BeeQueue(queueName, {
    prefix: 'bench:bq',
    redis: beeQueueRedisOptions(parseRedisUrl(system.redis.url)),
    isWorker: false,
    getEvents: false,
    sendEvents: false,
    storeJobs: false,
  });
}

export async function startWorkers(system: BenchSystem, count: number, env: Record<string, string> = {}): Promise<Service[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const workerId = `bench-${i}-${Date.now() % 100000}`;
      const workerEnv = { REDIS_URL: system.redis.url, PROVIDER: 'noop', WORKER_ID: workerId, WORKER_CONCURRENCY: '50', LOG_LEVEL: 'info', ...env };
      if (workerEnv.LOG_LEVEL === 'info') return startService('worker', `bench-worker-${i}`, workerEnv);
      // Below info it never says "worker started": its first heartbeat says it instead.
      const beat = async () => (await system.redis.client.zscore(createRedisKeys().workers(), workerId)) !== null;
      return startScript(WORKER_MAIN, beat, `bench-worker-${i}`, workerEnv);
    }),
  );
}

export const stopAll = (services: Service[]) => Promise.all(services.map((service) => stopService(service, 8000)));

/** `count` graphql-ws connections, connected (lazy: false) before this resolves. */
export async function openWsClients(wsUrl: string, count: number): Promise<Client[]> {
  const clients: Client[] = [];
  const connected: Promise<void>[] = [];
  for (let i = 0; i < count; i += 1) {
    let resolve: () => void = () => undefined;
    connected.push(new Promise<void>((r) => (resolve = r)));
    clients.push(createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, on: { connected: () => resolve() }, onNonLazyError: () => undefined }));
    // Opening a thousand sockets at once overflows the accept backlog: a few at a time.
    if (i % 50 === 49) await Promise.all(connected.slice(-50));
  }
  await Promise.all(connected);
  return clients;
}

export async function closeWsClients(clients: Client[]): Promise<void> {
  await Promise.allSettled(clients.map((client) => client.dispose()));
}

/** Open raw `ws` sockets, each calling `onMessage` with the message text. */
export async function openRawSockets(wsUrl: string, count: number, onMessage: (text: string) => void): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, () => {
      const socket = new WebSocket(wsUrl);
      socket.on('message', (data) => onMessage(data.toString()));
      sockets.push(socket);
      return new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
    });
    await Promise.all(batch);
  }
  return sockets;
}

export interface NaivePipeline {
  server: Running;
  workers: Service[];
  stop(): Promise<void>;
}

/**
 * The naive pipeline (bench/baselines/naive-pipeline.ts): its server and `workers` worker
 * processes at `concurrency` each, under the key prefix `naive`. If one fails to start, the
 * others are stopped and the error is thrown.
 */
export async function startNaivePipeline(system: BenchSystem, workers: number, concurrency: number): Promise<NaivePipeline> {
  const env = { REDIS_URL: system.redis.url, NAIVE_PREFIX: 'naive' };
  const starts = [
    startScript(join(BASELINES, 'naive-pipeline.ts'), 'baseline listening', 'naive-server', { ...env, PORT: '0' }),
    ...Array.from({ length: workers }, (_, i) =>
      startScript(join(BASELINES, 'naive-worker.ts'), 'baseline listening', `naive-worker-${i}`, { ...env, NAIVE_CONCURRENCY: String(concurrency) }),
    ),
  ];
  const settled = await Promise.allSettled(starts);
  const services = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) {
    await stopAll(services);
    throw failure.reason;
  }
  const [server, ...rest] = services;
  return { server: wrap(server!), workers: rest, stop: async () => void (await stopAll(services)) };
}
