/**
 * Redis connection settings derived from one REDIS_URL, for ioredis (our own commands and
 * pub/sub) and for bee-queue (which bundles node_redis v3 and wants plain options).
 */
import { Redis, type RedisOptions } from 'ioredis';

export interface RedisEndpoint {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
}

/** Parses redis://[user:pass@]host:port[/db]. Throws on a malformed URL. */
export function parseRedisUrl(url: string): RedisEndpoint {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`bad Redis database in ${parsed.protocol}//…`);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    db,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    tls: parsed.protocol === 'rediss:',
  };
}

/**
 * Options for bee-queue's bundled node_redis client. Reconnects forever with a delay capped
 * at 2 s (node_redis' own default backs off far longer, leaving a producer dead for minutes
 * after a short Redis outage).
 */
export function beeQueueRedisOptions(endpoint: RedisEndpoint): Record<string, unknown> {
  return {
    host: endpoint.host,
    port: endpoint.port,
    db: endpoint.db,
    retry_strategy: ({ attempt }: { attempt: number }) => Math.min(attempt * 100, 2000),
    ...(endpoint.password ? { password: endpoint.password } : {}),
    ...(endpoint.tls ? { tls: {} } : {}),
  };
}

export interface CreateRedisOptions {
  /** A label for CLIENT SETNAME, visible in `CLIENT LIST`. */
  name: string;
  /** Fail commands at once while disconnected instead of queueing them. Default true. */
  failFastWhenDown?: boolean;
  /** Per-command timeout; 0 disables it (a subscriber waits for messages indefinitely). Default 2000 ms. */
  commandTimeoutMs?: number;
}

/**
 * An ioredis client that reconnects forever with capped backoff. With `failFastWhenDown`,
 * a command issued while Redis is unreachable rejects immediately (callers map it to
 * UNAVAILABLE) instead of hanging in the offline queue.
 */
export function createRedisClient(endpoint: RedisEndpoint, options: CreateRedisOptions): Redis {
  const redisOptions: RedisOptions = {
    host: endpoint.host,
    port: endpoint.port,
    db: endpoint.db,
    connectionName: options.name,
    lazyConnect: true,
    enableOfflineQueue: !(options.failFastWhenDown ?? true),
    // A client that waits for Redis must really wait: with a retry limit, ioredis rejects
    // queued commands after two failed reconnects, and libraries that fire SUBSCRIBE and
    // UNSUBSCRIBE without handling the promise turn that into a process crash.
    maxRetriesPerRequest: options.failFastWhenDown === false ? null : 1,
    ...((options.commandTimeoutMs ?? 2000) > 0 ? { commandTimeout: options.commandTimeoutMs ?? 2000 } : {}),
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    ...(endpoint.username ? { username: endpoint.username } : {}),
    ...(endpoint.password ? { password: endpoint.password } : {}),
    ...(endpoint.tls ? { tls: {} } : {}),
  };
  return new Redis(redisOptions);
}
