/**
 * The per-file test system: `useSystem(options)`, called at the top of a test file (or of a
 * describe block), registers the hooks that start a private redis-server and whatever else
 * the file asks for (a fake OpenRouter, an API server, a worker, a graphql-ws client), and
 * that close all of it. It hands back one object whose handles are filled in by beforeAll.
 *
 * What a test opens through it (`startServer`, `startWorker`, `spawnWorker`, `wsClient`,
 * `startFake`) is closed after that test; what beforeAll opens, after the file. Every test
 * fails if an `error` event arrived that it did not declare with `expectErrors`
 * (error-watch.ts); so does the file, for one that arrives while it is torn down.
 *
 * Keys: every server and worker started here uses REDIS_KEY_PREFIX `system.prefix` (random
 * unless given), and `system.keys` builds that deployment's keys.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createRedisKeys, type RedisKeys } from '../../schema/src/redis-keys.ts';
import { createTaskRepository, type TaskRepository } from '../../server/infra/task-repository.ts';
import { startFakeOpenRouter, type FakeOpenRouter, type FakeOpenRouterOptions } from '../../tools/fake-openrouter.ts';
import { createTaskStore, type TaskStore } from '../../worker/task-store.ts';
import { takeUnexpectedErrors } from './error-watch.ts';
import { startRedis, type StartRedisOptions, type TestRedis } from './redis-server.ts';
import { spawnServer, type ServerProcess } from './server-process.ts';
import { fakeProviderEnv, startServer, startWorker, wsClient, type Env, type RunningServer, type TestWorker } from './system.ts';
import { waitFor } from './wait-for.ts';
import { spawnWorker, type WorkerProcess } from './worker-process.ts';

export { expectErrors, REDIS_OUTAGE_ERRORS } from './error-watch.ts';

/** A Redis key prefix no other deployment in the test Redis uses: `<label>-<8 hex>`. */
export const randomPrefix = (label = 't') => `${label}-${randomBytes(4).toString('hex')}`;

export type { TaskRepository } from '../../server/infra/task-repository.ts';

export interface SystemOptions {
  /** How to start redis-server (AOF for tests that restart it). */
  redis?: StartRedisOptions;
  /** REDIS_KEY_PREFIX of every server and worker started here. Default: `randomPrefix()`. */
  prefix?: string;
  /** Start a fake OpenRouter; every worker started here then calls it. Default false. */
  fake?: boolean;
  /** Start an API server with this environment (over the test defaults); false for none. Default `{}`. */
  server?: Env | false;
  /** Start a worker with this environment; false for none. Default false. */
  worker?: Env | false;
  /** Open a graphql-ws client on the server. Default false. */
  wsClient?: boolean;
}

export interface TestSystem {
  readonly redis: TestRedis;
  readonly prefix: string;
  readonly keys: RedisKeys;
  readonly fake: FakeOpenRouter;
  readonly server: RunningServer;
  /** The file's worker (the latest after `restartWorker`). */
  readonly worker: TestWorker;
  /** The file's graphql-ws client on `server`. */
  readonly client: Client;
  /** Another API server on this Redis, with the file's prefix unless `env` says otherwise. */
  startServer(env?: Env): Promise<RunningServer>;
  /** Another in-process worker, with the file's prefix and fake provider unless `env` says otherwise. */
  startWorker(env?: Env): Promise<TestWorker>;
  /** Stops the file's worker if it runs and starts a new one with its environment plus `env`; it lives until the end of the file. */
  restartWorker(env?: Env): Promise<TestWorker>;
  /** A worker as a child process (worker/main.ts), killed with SIGKILL when its scope ends unless it exited. */
  spawnWorker(env?: Record<string, string>): Promise<WorkerProcess>;
  /** The API server as a child process (server/main.ts), killed like `spawnWorker`'s. */
  spawnServer(env?: Record<string, string>): Promise<ServerProcess>;
  /** A graphql-ws client, on `server` unless another is given; disposed when its scope ends. */
  wsClient(on?: { wsUrl: string }, options?: Parameters<typeof wsClient>[1]): Client;
  /** Another fake OpenRouter, closed when its scope ends. */
  startFake(options?: FakeOpenRouterOptions): Promise<FakeOpenRouter>;
  /** The server's task repository (the scripts' server side) on the assertion client, for `keys` (default the file's). */
  repository(keys?: RedisKeys): TaskRepository;
  /** A worker's task store (claim, renew, complete, fail) on the assertion client, as worker `workerId`. */
  taskStore(workerId: string, options?: { leaseMs?: number; keys?: RedisKeys }): TaskStore;
}

/** `close` run at most once: later calls share the first one's promise. */
const once = (close: () => Promise<void>) => {
  let closing: Promise<void> | null = null;
  return () => (closing ??= close());
};

type Closer = { name: string; close: () => Promise<unknown> };

/** Resources to close together, newest first; `remove` forgets one closed early. */
function createScope() {
  let closers: Closer[] = [];
  return {
    add(name: string, close: () => Promise<unknown>): Closer {
      const closer = { name, close };
      closers.push(closer);
      return closer;
    },
    remove(closer: Closer) {
      closers = closers.filter((candidate) => candidate !== closer);
    },
    /** Closes everything (each even when another failed), then throws the failures together. */
    async close(): Promise<void> {
      const failures: string[] = [];
      for (const closer of closers.splice(0).reverse()) {
        await closer.close().catch((error: unknown) => failures.push(`${closer.name}: ${error instanceof Error ? error.message : String(error)}`));
      }
      if (failures.length > 0) throw new Error(`closing test resources failed:\n  ${failures.join('\n  ')}`);
    },
  };
}

function assertNoUnexpectedErrors(when: string): void {
  const unexpected = takeUnexpectedErrors();
  if (unexpected.length > 0) {
    throw new Error(`unexpected error events ${when} (declare expected ones with expectErrors):\n  ${unexpected.join('\n  ')}`);
  }
}

/**
 * For a file that builds its system without `useSystem` (a Sentinel deployment, say): fails
 * each test, and the file's teardown, on an error event it did not declare.
 */
export function failOnUnexpectedErrors(): void {
  afterEach(() => assertNoUnexpectedErrors('in this test'));
  afterAll(() => assertNoUnexpectedErrors('while the file was set up or torn down'));
}

/** Registers the hooks and returns the file's system; see the top of this file. */
export function useSystem(options: SystemOptions = {}): TestSystem {
  const prefix = options.prefix ?? randomPrefix();
  const keys = createRedisKeys(prefix);
  const fileScope = createScope();
  const testScope = createScope();
  let inTest = false;
  const scope = () => (inTest ? testScope : fileScope);

  let redis: TestRedis | null = null;
  let fake: FakeOpenRouter | null = null;
  let server: RunningServer | null = null;
  let worker: TestWorker | null = null;
  let client: Client | null = null;
  const workerEnv = options.worker || {};

  const need = <T>(value: T | null, what: string, option: string): T => {
    if (value === null) throw new Error(`the test system has no ${what}: ask for it with useSystem({ ${option} })`);
    return value;
  };
  const baseWorkerEnv = (): Record<string, string> => ({ REDIS_KEY_PREFIX: prefix, ...(fake ? fakeProviderEnv(fake) : {}) });

  async function trackedServer(env: Env, where = scope()): Promise<RunningServer> {
    const started = await startServer(need(redis, 'Redis', '').url, { REDIS_KEY_PREFIX: prefix, ...env });
    const stop = once(() => started.stop());
    const closer = where.add('server', stop);
    return {
      ...started,
      stop: async () => {
        where.remove(closer);
        await stop();
      },
    };
  }

  async function trackedWorker(env: Env, where = scope()): Promise<TestWorker> {
    const started = await startWorker(need(redis, 'Redis', '').url, { ...baseWorkerEnv(), ...env });
    let stopping: Promise<void> | null = null;
    const stop = (graceMs?: number) => (stopping ??= started.stop(graceMs));
    const closer = where.add(`worker ${started.workerId}`, () => stop(100));
    return {
      ...started,
      stop: async (graceMs?: number) => {
        where.remove(closer);
        await stop(graceMs);
      },
    };
  }

  function trackedProcess<T extends WorkerProcess | ServerProcess>(name: string, started: T): T {
    scope().add(name, async () => {
      if (!started.running()) return;
      started.signal('SIGKILL');
      await started.exited;
    });
    return started;
  }

  beforeAll(async () => {
    redis = await startRedis(options.redis);
    fileScope.add('redis-server', () => redis!.dispose());
    if (options.fake) {
      fake = await startFakeOpenRouter();
      fileScope.add('fake OpenRouter', () => fake!.close());
    }
    if (options.server !== false) server = await trackedServer(options.server ?? {}, fileScope);
    if (options.worker) worker = await trackedWorker(workerEnv, fileScope);
    if (options.wsClient) {
      const opened = wsClient(need(server, 'server', 'server: {}'));
      fileScope.add('graphql-ws client', async () => opened.dispose());
      client = opened;
    }
  });

  beforeEach(() => {
    inTest = true;
  });

  afterEach(async () => {
    inTest = false;
    // Closed before the check: an error event while closing belongs to this test.
    await testScope.close();
    assertNoUnexpectedErrors('in this test');
  });

  afterAll(async () => {
    await fileScope.close();
    assertNoUnexpectedErrors('while the file was set up or torn down');
  });

  return {
    get redis() {
      return need(redis, 'Redis', '');
    },
    prefix,
    keys,
    get fake() {
      return need(fake, 'fake OpenRouter', 'fake: true');
    },
    get server() {
      return need(server, 'server', 'server: {}');
    },
    get worker() {
      return need(worker, 'worker', 'worker: {}');
    },
    get client() {
      return need(client, 'graphql-ws client', 'wsClient: true');
    },
    startServer: (env = {}) => trackedServer(env),
    startWorker: (env = {}) => trackedWorker(env),
    async restartWorker(env = {}) {
      await worker?.stop(100);
      worker = await trackedWorker({ ...workerEnv, ...env }, fileScope);
      return worker;
    },
    async spawnWorker(env = {}) {
      const { url, client: assertions } = need(redis, 'Redis', '');
      const workerEnv: Record<string, string> = { ...baseWorkerEnv(), ...env };
      const started = trackedProcess('worker process', await spawnWorker(url, workerEnv));
      // "worker started" is logged inside start(); the process installs its SIGTERM handler only
      // after start() resolves (common/process.ts), so a signal sent at once can meet the default
      // action on a loaded machine. A heartbeat stamped after we saw the line comes from a later
      // timer tick, after that handler is in place.
      const sawStartedAt = Date.now();
      const workers = createRedisKeys(workerEnv.REDIS_KEY_PREFIX ?? prefix).workers();
      await waitFor(async () => Number(await assertions.zscore(workers, started.id)) > sawStartedAt, {
        message: `${started.id} to be running after its start`,
      });
      return started;
    },
    async spawnServer(env = {}) {
      return trackedProcess('server process', await spawnServer(need(redis, 'Redis', '').url, { REDIS_KEY_PREFIX: prefix, ...env }));
    },
    wsClient(on, clientOptions) {
      const opened = wsClient(on ?? need(server, 'server', 'server: {}'), clientOptions);
      scope().add('graphql-ws client', async () => opened.dispose());
      return opened;
    },
    async startFake(fakeOptions) {
      const started = await startFakeOpenRouter(fakeOptions);
      scope().add('fake OpenRouter', () => started.close());
      return started;
    },
    repository: (own = keys) => createTaskRepository({ redis: need(redis, 'Redis', '').client, keys: own, maxEventsPerTask: 100, idempotencyTtlSeconds: 60 }),
    taskStore: (workerId, { leaseMs = 60_000, keys: own = keys } = {}) =>
      createTaskStore({ redis: need(redis, 'Redis', '').client, keys: own, workerId, leaseMs, maxEventsPerTask: 100 }),
  };
}
