/**
 * Redis connection settings derived from one REDIS_URL, for ioredis (our own commands and
 * pub/sub) and for bee-queue (which bundles node_redis v3 and wants plain options).
 *
 * With `redis+sentinel://` the master is found through Sentinel: ioredis does it itself;
 * bee-queue's node_redis cannot, so its connections ask common/sentinel-master.ts where the
 * master is each time they (re)connect.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { registerSentinel, type SentinelSettings } from './sentinel-master.ts';

export type { SentinelSettings };

export interface RedisEndpoint {
  /** The Redis host; with Sentinel, the first Sentinel node (only for messages). */
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** Set for redis+sentinel:// URLs: the master is looked up through these nodes. */
  sentinel?: SentinelSettings;
}

const SENTINEL_URL = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/?#]+)\/([^/?#]+)(?:\/(\d+))?\/?(?:\?([^#]*))?$/;

/**
 * Parses `redis+sentinel://[user:pass@]host:port[,host:port...]/<master name>[/db][?sentinelPassword=...]`.
 * The credentials are the Redis master's; `sentinelPassword` is the Sentinel nodes' own.
 */
function parseSentinelUrl(url: string): RedisEndpoint {
  const match = SENTINEL_URL.exec(url);
  if (!match) throw new Error('bad redis+sentinel:// URL: expected redis+sentinel://[user:pass@]host:port[,host:port]/<master>[/db]');
  const [, credentials, hosts, name, db, query] = match;
  const nodes = hosts!.split(',').map((node) => {
    const [host, port] = node.trim().split(':');
    if (!host || !port || !/^\d+$/.test(port)) throw new Error('bad Sentinel node in redis+sentinel:// URL: expected host:port');
    return { host, port: Number(port) };
  });
  const [user, ...rest] = (credentials ?? '').split(':');
  const password = rest.join(':');
  const sentinelPassword = new URLSearchParams(query ?? '').get('sentinelPassword');
  return {
    host: nodes[0]!.host,
    port: nodes[0]!.port,
    db: db ? Number(db) : 0,
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
    tls: false,
    sentinel: { name: decodeURIComponent(name!), nodes, ...(sentinelPassword ? { password: sentinelPassword } : {}) },
  };
}

/** Parses redis://[user:pass@]host:port[/db] (or rediss://, redis+sentinel://). Throws on a malformed URL. */
export function parseRedisUrl(url: string): RedisEndpoint {
  if (url.startsWith('redis+sentinel:')) return parseSentinelUrl(url);
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
    // A snake_case key: node_redis renames camelCase options and then changes its own API.
    ...(endpoint.sentinel ? { atf_sentinel: registerSentinel(endpoint.sentinel) } : {}),
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
  const location: RedisOptions = endpoint.sentinel
    ? {
        sentinels: endpoint.sentinel.nodes,
        name: endpoint.sentinel.name,
        role: 'master',
        ...(endpoint.sentinel.password ? { sentinelPassword: endpoint.sentinel.password } : {}),
        // Sentinel announces a failover on +switch-master: reconnect at once, not at the next error.
        failoverDetector: true,
        // While every Sentinel is unreachable, keep asking (ioredis gives up by default).
        sentinelRetryStrategy: (times) => Math.min(100 * times, 2000),
      }
    : { host: endpoint.host, port: endpoint.port };
  const redisOptions: RedisOptions = {
    ...location,
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
