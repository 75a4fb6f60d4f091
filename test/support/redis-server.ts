/**
 * A private redis-server per test file, on a free loopback port, with its data in a temp
 * directory. Tests never touch a Redis they did not start. The server process's and the
 * assertion client's `error` events go to the error watch (error-watch.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freeLoopbackPort } from '../../common/free-port.ts';
import { watchErrors } from './error-watch.ts';
import { waitFor } from './wait-for.ts';

export { freeLoopbackPort as freePort } from '../../common/free-port.ts';

export interface TestRedis {
  url: string;
  port: number;
  /** A command connection for assertions (never FLUSHALL: the server is ours alone anyway). */
  client: Redis;
  /** Stops the server (SIGTERM, or SIGKILL with `{ kill: true }`). */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Starts it again on the same port and data directory, with `extraArgs` added from now on. */
  start(extraArgs?: string[]): Promise<void>;
  /** The running server's process id (null while stopped). */
  pid(): number | null;
  /** Stops everything and removes the data directory. */
  dispose(): Promise<void>;
}

export interface StartRedisOptions {
  appendOnly?: boolean;
  /** More redis-server arguments, e.g. `['--appendfsync', 'always']`. */
  args?: string[];
}

export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'atf-redis-'));
  let child: ChildProcess | null = null;
  const args = [...(options.args ?? [])];

  async function start(extraArgs: string[] = []): Promise<void> {
    args.push(...extraArgs);
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', options.appendOnly ? 'yes' : 'no', '--dir', dir, ...args],
      { stdio: 'ignore' },
    );
    watchErrors('redis-server process', child);
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    await waitFor(
      async () => {
        try {
          if (probe.status !== 'ready') await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          probe.disconnect();
          return false;
        }
      },
      { timeoutMs: 10_000, message: `redis-server on port ${port}` },
    );
    probe.disconnect();
  }

  async function stop({ kill = false } = {}): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(kill ? 'SIGKILL' : 'SIGTERM');
    await exited;
    child = null;
  }

  await start();
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  watchErrors('redis client', client);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    client,
    stop,
    start,
    pid: () => child?.pid ?? null,
    async dispose() {
      client.disconnect();
      await stop({ kill: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
