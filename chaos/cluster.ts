/**
 * The processes of a chaos run: a private redis-server with AOF on, the fake provider, 2 API
 * servers and 3 workers as child processes, with the settings that make faults bite quickly
 * (short leases, stall checks and resyncs). Faults signal these processes through the slots
 * here, and start a slot again when its process is gone.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startRedis, type TestRedis } from '../test/support/redis-server.ts';
import { toNanoUsd } from '../schema/src/usage.ts';
import { DEFAULT_FAKE_PRICE, startFakeOpenRouter, type FakeOpenRouter, type FakeScript } from '../tools/fake-openrouter.ts';
import { CHAOS_MODEL_PRICES, CHAOS_MODELS } from './model-faults.ts';
import { startService, stopService, type Service } from './services.ts';

export interface ClusterOptions {
  /** Attempts after the first, for every task (the servers' MAX_RETRIES). */
  maxRetries: number;
  /** The fake provider's answers. */
  providerScript: FakeScript;
  /** Each process appends its log lines to `<logDir>/<name>.log` (created if missing). */
  logDir: string;
  /** The servers' API_KEYS (JSON); without it the servers take anonymous callers as tenant `default`. */
  apiKeys?: string;
  /** PRIORITY_OFFSET_MS of servers and workers (how far HIGH and LOW move a task in its line). */
  priorityOffsetMs?: number;
}

export interface ChaosCluster {
  redis: TestRedis;
  fake: FakeOpenRouter;
  /** Base URLs of the API servers (http://127.0.0.1:port), one per slot. */
  serverUrls: string[];
  /** One slot per API server: null until started (or when a start failed). */
  servers: (Service | null)[];
  workers: (Service | null)[];
  /** Workers stopped with SIGSTOP and not yet continued. */
  paused: Set<Service>;
  startServerAt(index: number): Promise<void>;
  startWorkerAt(index: number): Promise<void>;
  /** Workers that run (alive and not paused), with their slot. */
  liveWorkers(): { w: Service; i: number }[];
  /** Every process back and running: paused workers continued, Redis and dead processes started. */
  restore(): Promise<void>;
  /** The last log lines of each worker, for a failed run's report. */
  workerTails(lines: number): string[];
  /** Every log line of every server and worker so far that contains `text` (a task id, say). */
  logLinesWith(text: string): string[];
  /** Stops everything started (also after a failed start). */
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 90_000;

/** The workers' timings that bound how long a waiting task can be held up (chaos/starvation-audit.ts). */
export const CLUSTER_TIMINGS = {
  /** LEASE_MS: a stopped or dead worker's attempts and tickets come back after this. */
  leaseMs: 2000,
  /** SWEEP_INTERVAL_MS: a lost ticket is replaced by a sweeper within this. */
  sweepIntervalMs: 1000,
  /** RETRY_RATIO: the share of a tenant's turns its retries take while both its lines have work. */
  retryRatio: 0.3,
} as const;

/**
 * Starts Redis, the fake provider, the servers and the workers. On failure what was started
 * is stopped again before the error is thrown.
 */
export async function startChaosCluster(options: ClusterOptions): Promise<ChaosCluster> {
  let redis: TestRedis | null = null;
  let fake: FakeOpenRouter | null = null;
  const servers: (Service | null)[] = [null, null];
  const workers: (Service | null)[] = [null, null, null];
  const paused = new Set<Service>();

  async function close(): Promise<void> {
    for (const w of paused) w.signal('SIGCONT');
    await Promise.all([...servers, ...workers].map((service) => (service ? stopService(service, 3000) : undefined)));
    await fake?.close();
    await redis?.dispose();
  }

  try {
    mkdirSync(options.logDir, { recursive: true });
    const logFile = (name: string) => ({ logFile: join(options.logDir, `${name}.log`) });
    redis = await startRedis({ appendOnly: true });
    // Each model of the chain at its own price: a call recorded under the wrong model is priced wrong.
    fake = await startFakeOpenRouter({ prices: CHAOS_MODEL_PRICES });
    fake.script(options.providerScript);
    const ports = [await freePort(), await freePort()];
    const env = processEnv(redis, fake, ports, options);
    const startServerAt = async (index: number) => {
      servers[index] = await startService('server', `server-${index}`, env.server(index), READY_TIMEOUT_MS, logFile(`server-${index}`));
    };
    const startWorkerAt = async (index: number) => {
      workers[index] = await startService('worker', `worker-${index}`, env.worker(index), READY_TIMEOUT_MS, logFile(`worker-${index}`));
    };
    await Promise.all([0, 1].map(startServerAt));
    await Promise.all([0, 1, 2].map(startWorkerAt));
    const started = { redis, fake };

    return {
      ...started,
      serverUrls: ports.map((port) => `http://127.0.0.1:${port}`),
      servers,
      workers,
      paused,
      startServerAt,
      startWorkerAt,
      liveWorkers: () => workers.flatMap((w, i) => (w?.alive() && !paused.has(w) ? [{ w, i }] : [])),
      async restore() {
        for (const w of paused) w.signal('SIGCONT');
        paused.clear();
        if (started.redis.pid() === null) await started.redis.start();
        for (const [index, server] of servers.entries()) if (!server?.alive()) await startServerAt(index);
        for (const [index, worker] of workers.entries()) if (!worker?.alive()) await startWorkerAt(index);
      },
      workerTails: (lines) => workers.map((worker, index) => `--- worker-${index} (last lines)\n${worker?.lines.slice(-lines).join('\n')}`),
      logLinesWith: (text) =>
        [...servers.map((_, i) => `server-${i}`), ...workers.map((_, i) => `worker-${i}`)].flatMap((name) => {
          let lines: string[] = [];
          try {
            lines = readFileSync(logFile(name).logFile, 'utf8').split('\n');
          } catch {
            // never started
          }
          return lines.filter((line) => line.includes(text)).map((line) => `${name}: ${line}`);
        }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The workers' completion cap (MAX_COMPLETION_TOKENS) during a run. */
export const CHAOS_COMPLETION_CAP = 1024;
/** What that cap costs at `model`'s price at the fake: the most a call estimated at its prompt may be off by, beyond the prompt. */
export const chaosCompletionCapNano = (model: string): number =>
  toNanoUsd(CHAOS_COMPLETION_CAP * (CHAOS_MODEL_PRICES[model as keyof typeof CHAOS_MODEL_PRICES] ?? DEFAULT_FAKE_PRICE).completionUsd);

/** The environment of each server and worker slot. */
function processEnv(redis: TestRedis, fake: FakeOpenRouter, ports: number[], { maxRetries, apiKeys, priorityOffsetMs }: ClusterOptions) {
  const shared: Record<string, string> = {
    RETRY_RATIO: String(CLUSTER_TIMINGS.retryRatio),
    // The chain of three models (chaos/model-faults.ts); OPENROUTER_MODEL is its first, for a worker that knows no chain.
    OPENROUTER_MODEL: CHAOS_MODELS[0],
    OPENROUTER_MODELS: CHAOS_MODELS.join(','),
    ...(priorityOffsetMs === undefined ? {} : { PRIORITY_OFFSET_MS: String(priorityOffsetMs) }),
  };
  return {
    server: (index: number) => ({
      ...shared,
      REDIS_URL: redis.url,
      PORT: String(ports[index]),
      LOG_LEVEL: 'info',
      SERVE_CLIENT: 'false',
      NODE_ENV: 'test',
      MAX_RETRIES: String(maxRetries),
      SUBSCRIPTION_RESYNC_MS: '1000',
      WS_MAX_SUBSCRIPTIONS: '1000',
      WS_KEEPALIVE_MS: '2000',
      // The run tests loss under faults, not admission control.
      SUBMIT_RATE_LIMIT: 'off',
      ...(apiKeys ? { API_KEYS: apiKeys, WS_MAX_CONNECTIONS_PER_KEY: '1000' } : {}),
    }),
    worker: (index: number) => ({
      ...shared,
      REDIS_URL: redis.url,
      WORKER_ID: `chaos-worker-${index}-${Date.now() % 100000}`,
      LOG_LEVEL: 'info',
      OPENROUTER_API_KEY: 'sk-chaos',
      OPENROUTER_BASE_URL: fake.baseUrl,
      WORKER_CONCURRENCY: '8',
      LEASE_MS: String(CLUSTER_TIMINGS.leaseMs),
      STALL_INTERVAL_MS: '500',
      HEARTBEAT_INTERVAL_MS: '500',
      SWEEP_INTERVAL_MS: String(CLUSTER_TIMINGS.sweepIntervalMs),
      SHUTDOWN_GRACE_MS: '1000',
      PROVIDER_TIMEOUT_MS: '5000',
      MAX_COMPLETION_TOKENS: String(CHAOS_COMPLETION_CAP),
      RETRY_DELAY_SCALE: '0.001',
      // The breaker may open on a burst of errors: tasks then wait briefly, losing no retry.
      CIRCUIT_TIMEOUT: '0.5',
      // Live output in small chunks (the pieces come 30-200 ms apart): more chunks to lose or repeat.
      OUTPUT_FLUSH_MS: '20',
      OUTPUT_FLUSH_CHARS: '32',
    }),
  };
}
