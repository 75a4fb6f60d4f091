/**
 * Finds a Redis for `npm start`: REDIS_URL when set; otherwise a Redis already answering on
 * the default address; otherwise a redis-server from PATH, started as a child process with
 * its data (AOF on) under the data directory. Without any, explains how to get one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import { ConfigError, parseEnv } from '../../common/env.ts';
import { freeLoopbackPort } from '../../common/free-port.ts';
import { redisConfigFrom, redisEnvChecks, redisEnvShape } from '../../common/redis-config.ts';
import { createRedisClient, parseRedisUrl } from '../../common/redis-connection.ts';
import { requireRedisVersion } from '../../common/redis-version.ts';

export interface ResolvedRedis {
  url: string;
  source: 'REDIS_URL' | 'default' | 'spawned';
  /** Stops the spawned redis-server (AOF is flushed on SIGTERM); a no-op otherwise. */
  stop(): Promise<void>;
}

export const REDIS_INSTALL_HELP = [
  'No Redis found: REDIS_URL is not set, nothing answers on the default address, and there is no redis-server on PATH.',
  'Get one of these:',
  '  Debian/Ubuntu:  sudo apt-get install redis-server',
  '  macOS:          brew install redis',
  '  Docker:         docker compose up -d redis   (then REDIS_URL=redis://127.0.0.1:6379)',
].join('\n');

/** True when a Redis answers PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 800): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface ResolveRedisOptions {
  env: Record<string, string | undefined>;
  /** Probed when REDIS_URL is unset. */
  defaultUrl: string;
  /** The spawned server keeps its data here. */
  dataDir: string;
  log(message: string): void;
}

export async function resolveRedis(options: ResolveRedisOptions): Promise<ResolvedRedis> {
  const noop = async () => undefined;
  if (options.env.REDIS_URL) return { url: options.env.REDIS_URL, source: 'REDIS_URL', stop: noop };
  if (await redisAnswers(options.defaultUrl)) return { url: options.defaultUrl, source: 'default', stop: noop };
  if (!hasRedisServer()) throw new Error(REDIS_INSTALL_HELP);

  mkdirSync(options.dataDir, { recursive: true });
  const port = await freeLoopbackPort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', options.dataDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction'],
    // Own process group, so a terminal's Ctrl-C does not stop Redis before the workers are done.
    { stdio: ['ignore', 'ignore', 'inherit'], detached: true },
  );
  const url = `redis://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await redisAnswers(url, 300))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  options.log(`started redis-server on ${url} (data in ${options.dataDir})`);
  return {
    url,
    source: 'spawned',
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Throws RedisVersionError when the Redis at `url` (with the Sentinel settings in `env`, as the
 * processes will read them) is known to be older than MIN_REDIS_VERSION, so nothing is started
 * against it. A Redis that does not answer within `timeoutMs`, or settings the processes will
 * reject anyway (they list every problem), are left to the processes, as before.
 */
export async function refuseOldRedis(url: string, env: Record<string, string | undefined>, warn: (warning: string) => void, timeoutMs = 2000): Promise<void> {
  let redisUrl: string;
  try {
    redisUrl = redisConfigFrom(parseEnv(redisEnvShape, { ...env, REDIS_URL: url }, redisEnvChecks)).redisUrl;
  } catch (error) {
    if (error instanceof ConfigError) return;
    throw error;
  }
  const client = createRedisClient(parseRedisUrl(redisUrl), { name: 'atf-start', commandTimeoutMs: timeoutMs });
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    const connected = client.connect().then(() => true, () => false);
    // With Sentinel, connect() keeps asking while every Sentinel is down: bounded here.
    if (await Promise.race([connected, new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)))])) {
      await requireRedisVersion(client, warn);
    }
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
