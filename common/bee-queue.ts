/**
 * bee-queue with two repairs for life after a Redis outage:
 * - It loads its Lua scripts once, at start, and calls them with EVALSHA forever after. When
 *   Redis restarts or fails over, the script cache is empty and every call fails with NOSCRIPT
 *   until the process restarts (STACK.md, trap 3). Here a NOSCRIPT answer is retried once
 *   with EVAL, which runs the script and caches it again.
 * - A worker whose blocking pop fails waits before trying again, doubling the wait each time
 *   without limit: after a 30 s outage it could sit idle for a minute more. The wait is
 *   capped here at `maxPollRetryDelayMs`.
 *
 * This reaches into bee-queue 2.0.0's internals (`_evalScriptOn`, `_redisFailureRetryDelay`,
 * `lib/lua`); the version is pinned and the Redis fault tests fail loudly if an upgrade
 * changes them.
 */
import { createRequire } from 'node:module';
import BeeQueue from 'bee-queue';

const require = createRequire(import.meta.url);
const lua = require('bee-queue/lib/lua') as { scripts: Record<string, string>; shas: Record<string, string> };

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

export interface CreateBeeQueueOptions {
  /** Told each time a script had to be reloaded (Redis lost its script cache). */
  onScriptReload?: (script: string) => void;
  /** Longest wait between a worker's attempts to pull a job while Redis fails. Default 2000 ms. */
  maxPollRetryDelayMs?: number;
}

export function createBeeQueue<T>(name: string, settings: BeeQueue.QueueSettings, options: CreateBeeQueueOptions = {}): BeeQueue<T> {
  const queue = new BeeQueue<T>(name, settings);
  const internals = queue as unknown as QueueInternals;
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
