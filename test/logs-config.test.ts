/**
 * Logs and configuration as an operator meets them: JSON lines with taskId, workerId and
 * attempt; secrets redacted; pretty output only when asked or on a terminal; LOG_LEVEL and
 * DEBUG as docs/configuration.md says; and a process with a bad environment that prints every problem
 * in one message and exits 2.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { debugEnablesService } from '../common/log-config.ts';
import { createLogger } from '../common/logger.ts';
import { loadConfig as loadServerConfig } from '../server/config.ts';
import { loadConfig as loadWorkerConfig } from '../worker/config.ts';
import { createWorker } from '../worker/worker.ts';
import { useSystem } from './support/fixtures.ts';
import { SAMPLE_TEXT, submitTask } from './support/system.ts';
import { waitFor } from './support/wait-for.ts';

const ROOT = join(import.meta.dirname, '..');

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

const run = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });

describe('logs', () => {
  it('redacts secrets at every level', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ name: 't', level: 'trace', destination });
    logger.trace(
      { headers: { authorization: 'Bearer sk-canary-1' }, apiKey: 'sk-canary-2', apiKeys: ['sk-canary-3'], request: { password: 'sk-canary-4' }, sentinelPassword: 'sk-canary-5' },
      'calling',
    );
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toMatch(/sk-canary/);
    expect(lines[0]).toMatchObject({ headers: { authorization: '[redacted]' }, request: { password: '[redacted]' } });
  });

  it('LOG_LEVEL wins; DEBUG=atf lowers the default to debug; other DEBUG namespaces leave it alone', () => {
    expect(loadWorkerConfig({}).logLevel).toBe('info');
    expect(loadWorkerConfig({ DEBUG: 'atf' }).logLevel).toBe('debug');
    expect(loadServerConfig({ DEBUG: 'ioredis:*,atf:*' }).logLevel).toBe('debug');
    expect(loadServerConfig({ DEBUG: '*' }).logLevel).toBe('debug');
    expect(loadServerConfig({ DEBUG: 'ioredis:*' }).logLevel).toBe('info');
    expect(loadServerConfig({ DEBUG: 'atf', LOG_LEVEL: 'warn' }).logLevel).toBe('warn');
    expect(debugEnablesService('*,-atf')).toBe(false);
  });

  it('writes JSON lines unless pretty output is asked for (or auto on a terminal outside production)', () => {
    const script = "import('./common/logger.ts').then((m) => m.createLogger({ name: 'x', level: 'info', format: process.argv[1] }).info({ taskId: 't-1' }, 'hello'))";
    const json = run(['-e', script, 'auto'], {});
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ msg: 'hello', taskId: 't-1', name: 'x' });
    const pretty = run(['-e', script, 'pretty'], {});
    expect(pretty.stdout).toContain('hello');
    expect(pretty.stdout).toContain('taskId');
    expect(() => JSON.parse(pretty.stdout.trim())).toThrow();
  });
});

describe('configuration at start', () => {
  it.each([
    ['worker', 'worker/main.ts'],
    ['server', 'server/main.ts'],
  ])('the %s prints every problem in one message and exits 2', (name, entry) => {
    const result = run([entry], { REDIS_URL: 'http://nope', REDIS_SENTINELS: 'a:1', LOG_LEVEL: 'loud', SHUTDOWN_GRACE_MS: '-5' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^${name}: invalid configuration:`));
    for (const variable of ['REDIS_URL', 'REDIS_SENTINEL_NAME', 'LOG_LEVEL', 'SHUTDOWN_GRACE_MS']) expect(result.stderr).toContain(`${variable}:`);
    expect(result.stderr.trim().split('\n').filter((line) => !line.startsWith('  - '))).toHaveLength(1);
  });
});

describe('worker log lines', () => {
  const system = useSystem();

  it('carry taskId, workerId and attempt', async () => {
    const { lines, destination } = capture();
    // A worker of its own making: the test reads the lines its real logger writes.
    const worker = createWorker(
      loadWorkerConfig({ REDIS_URL: system.redis.url, REDIS_KEY_PREFIX: system.prefix, WORKER_ID: 'log-worker', HEARTBEAT_INTERVAL_MS: '200' }),
      createLogger({ name: 'worker', level: 'debug', destination }),
    );
    await worker.start();
    try {
      const task = await submitTask(system.server, `${SAMPLE_TEXT} Logs.`);
      const started = await waitFor(() => lines.find((line) => line.msg === 'task started' && line.taskId === task.id), { message: 'a task started line' });
      // Per-task lines are debug (their cost per task at info was measured by the worker bench).
      expect(started).toMatchObject({ taskId: task.id, workerId: 'log-worker', attempt: 1, level: 20, name: 'worker' });
      expect(typeof started.time).toBe('string');
    } finally {
      await worker.stop();
    }
  });
});
