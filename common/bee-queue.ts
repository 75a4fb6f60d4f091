/**
 * bee-queue with repairs for life after a Redis outage, and hooks for the task scripts:
 * - It loads its Lua scripts once, at start, and calls them with EVALSHA forever after. When
 *   Redis restarts or fails over, the script cache is empty and every call fails with NOSCRIPT
 *   until the process restarts. Here a NOSCRIPT answer is retried once with EVAL, which runs
 *   the script and caches it again.
 * - A worker whose blocking pop fails waits before trying again, doubling the wait each time
 *   without limit: after a 30 s outage it could sit idle for a minute more. The wait is
 *   capped here at `maxPollRetryDelayMs`.
 *
 * - With Sentinel (`atf_sentinel` in the redis options, see common/redis-connection.ts), the
 *   queue connects once Sentinel has named the master, and each of its node_redis connections
 *   reconnects to wherever the master is now (node_redis v3 knows no Sentinel).
 *
 * - A job finished inside a task script (`markJobFinished`; its keys are `RedisKeys.beeQueueKey`) is not finished
 *   again by bee-queue: the completion and the job's removal share one atomic round trip. A
 *   job can be queued by a task script too (`encodeBeeQueueJob`), in bee-queue's own format.
 *
 * This reaches into bee-queue 2.0.0's internals (`_evalScriptOn`, `_finishJob`, `_redisFailureRetryDelay`,
 * `_ready`, `lib/lua`) and node_redis 3.1's (`create_stream`, `connection_options`); the
 * versions are pinned and the Redis fault and Sentinel tests fail loudly if an upgrade
 * changes them.
 */
import { createRequire } from 'node:module';
import BeeQueue from 'bee-queue';
import { acquireSentinelMaster, sentinelMasterFor, type NodeRedisConnection } from './sentinel-master.ts';

const require = createRequire(import.meta.url);
const lua = require('bee-queue/lib/lua') as { scripts: Record<string, string>; shas: Record<string, string> };

interface NodeRedisClient extends NodeRedisConnection {
  options: { atf_sentinel?: string };
  address: string;
}
// The node_redis copy bee-queue itself loads.
const nodeRedis = createRequire(require.resolve('bee-queue'))('redis') as {
  RedisClient: { prototype: { create_stream(this: NodeRedisClient): void; __atfSentinel?: true } };
};
const clientPrototype = nodeRedis.RedisClient.prototype;
if (!clientPrototype.__atfSentinel) {
  clientPrototype.__atfSentinel = true;
  const createStream = clientPrototype.create_stream;
  // Every (re)connect of a Sentinel-managed connection goes to the master Sentinel names now.
  clientPrototype.create_stream = function (this: NodeRedisClient) {
    const master = this.options.atf_sentinel ? sentinelMasterFor(this.options.atf_sentinel) : null;
    if (master) {
      const address = master.current();
      if (address) {
        this.connection_options.host = address.host;
        this.connection_options.port = address.port;
        this.address = `${address.host}:${address.port}`;
      }
      master.attach(this);
      // A reconnect is the hint that the master may have moved: ask Sentinel for the next one.
      master.refresh();
    }
    createStream.call(this);
  };
}

type Callback = (error: Error | null, result?: unknown) => void;
interface ScriptClient {
  evalsha(...args: unknown[]): void;
  eval(...args: unknown[]): void;
}
interface QueueInternals {
  _evalScriptOn(client: ScriptClient, args: unknown[]): Promise<unknown>;
}

const call = (client: ScriptClient, command: 'evalsha' | 'eval', args: unknown[]) =>
  new Promise<unknown>((resolve, reject) => {
    const done: Callback = (error, result) => (error ? reject(error) : resolve(result));
    client[command](...args, done);
  });

interface FinishInternals {
  settings: { removeOnSuccess: boolean; sendEvents: boolean };
  _finishJob(error: unknown, data: unknown, job: BeeQueue.Job<unknown>): Promise<[string, unknown]>;
}

// Jobs whose success finish already ran inside a task script (see `markJobFinished`).
const finishedElsewhere = new WeakSet<object>();

/**
 * Tells bee-queue that `job` was finished by a task script: when its
 * handler returns, bee-queue skips its own MULTI for it. Only a success is skipped: a handler
 * that throws still gets bee-queue's failure finish.
 */
export function markJobFinished<T>(job: BeeQueue.Job<T>): void {
  finishedElsewhere.add(job);
}

// bee-queue's own Job class, so a job written by a task script is exactly what `save()` writes.
const BeeQueueJob = require('bee-queue/lib/job') as new (queue: null, id: null, data: unknown, options: { timeout?: number }) => { toData(): string };

/**
 * A job as bee-queue stores it in its `jobs` hash (data, options with a timestamp, status), for
 * a script that queues it in the same step as something else (see the task create script).
 */
export function encodeBeeQueueJob<T>(data: T, options: { timeoutMs?: number } = {}): string {
  return new BeeQueueJob(null, null, data, options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }).toData();
}

export interface CreateBeeQueueOptions {
  /** Told each time a script had to be reloaded (Redis lost its script cache). */
  onScriptReload?: (script: string) => void;
  /** Longest wait between a worker's attempts to pull a job while Redis fails. Default 2000 ms. */
  maxPollRetryDelayMs?: number;
}

export function createBeeQueue<T>(name: string, settings: BeeQueue.QueueSettings, options: CreateBeeQueueOptions = {}): BeeQueue<T> {
  const sentinelKey = (settings.redis as { atf_sentinel?: string } | undefined)?.atf_sentinel;
  const queue = new BeeQueue<T>(name, sentinelKey ? { ...settings, autoConnect: false } : settings);
  const internals = queue as unknown as QueueInternals;
  if (sentinelKey) connectThroughSentinel(queue, sentinelKey);
  internals._evalScriptOn = async (client, args) => {
    const [script, ...rest] = args as [string, ...unknown[]];
    try {
      return await call(client, 'evalsha', [lua.shas[script], ...rest]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
      options.onScriptReload?.(script);
      return call(client, 'eval', [lua.scripts[script], ...rest]);
    }
  };
  const finishing = queue as unknown as FinishInternals;
  const finishJob = finishing._finishJob.bind(queue);
  finishing._finishJob = (error, data, job) => {
    // The script did what this would do only under these settings; otherwise finish again.
    if (!error && finishedElsewhere.has(job) && finishing.settings.removeOnSuccess && !finishing.settings.sendEvents) {
      finishedElsewhere.delete(job);
      job.status = 'succeeded';
      return Promise.resolve(['succeeded', data]);
    }
    return finishJob(error, data, job);
  };
  let pollRetryDelay = 0;
  const maxPollRetryDelayMs = options.maxPollRetryDelayMs ?? 2000;
  Object.defineProperty(queue, '_redisFailureRetryDelay', {
    get: () => pollRetryDelay,
    set: (value: number) => {
      pollRetryDelay = Math.min(value, maxPollRetryDelayMs);
    },
  });
  return queue;
}

/**
 * Connects `queue` once Sentinel has named the master. Until then its commands wait (bee-queue
 * chains them on `_ready`), as they would for a Redis that is still starting.
 */
function connectThroughSentinel(queue: BeeQueue, key: string): void {
  const { master, release } = acquireSentinelMaster(key);
  const internals = queue as unknown as { _ready: Promise<unknown>; paused: boolean; settings: { redis: Record<string, unknown> } };
  internals._ready = master.ready().then((address) => {
    if (internals.paused) throw new Error('closed');
    internals.settings.redis = { ...internals.settings.redis, host: address.host, port: address.port };
    return queue.connect();
  });
  internals._ready.catch(() => undefined);
  const close = queue.close.bind(queue);
  queue.close = ((timeoutMs?: number) => (close(timeoutMs as number) as unknown as Promise<void>).finally(release)) as typeof queue.close;
}
