/**
 * Every process refuses a Redis older than MIN_REDIS_VERSION, with a message that names the
 * version found and the one needed, and exits 1: the API server, a worker, `npm start`'s
 * supervisor and `npm run keys`. The old Redis is test/support/fake-redis.ts (no Redis 6 is
 * installed here). A Redis that is down at start is not refused: the server comes up not ready,
 * as always, and refuses once Redis comes up too old.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../common/free-port.ts';
import { startFakeRedis, type FakeRedis } from './support/fake-redis.ts';
import { expectErrors, REDIS_OUTAGE_ERRORS, useSystem } from './support/fixtures.ts';
import { watchErrors } from './support/error-watch.ts';
import { ROOT, spawnNode } from './support/node-process.ts';
import { waitFor } from './support/wait-for.ts';

// For the error watch only: the Redis every process here meets is the impostor.
useSystem({ server: false });

const REFUSAL = /Redis 6\.2\.14 is too old: AsyncTaskFlow needs Redis 7\.0 or newer/;

/** What the processes send a Redis as they connect, before any work. */
const CONNECTING = ['INFO', 'CLIENT', 'PING', 'SELECT', 'QUIT', 'SCRIPT', 'SUBSCRIBE'];

let fake: FakeRedis | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

/**
 * `node --import tsx <args>` to its end (not spawnSync: the impostor Redis it talks to runs in
 * this process, and must keep answering).
 */
async function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  watchErrors(`${args[0]} process`, child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The process's exit code and output, killed after `timeoutMs` if it has not exited by then. */
async function outcome(started: ReturnType<typeof spawnNode>, timeoutMs = 20_000) {
  const timer = setTimeout(() => started.signal('SIGKILL'), timeoutMs);
  const code = await started.exited;
  clearTimeout(timer);
  return { code, output: started.lines.join('\n') };
}

describe('a Redis older than 7.0', () => {
  it.each([
    ['server', 'server/main.ts'],
    ['worker', 'worker/main.ts'],
  ])('the %s refuses to start, saying why, and exits 1', async (name, entry) => {
    expectErrors(REFUSAL, 'the refusal is logged at fatal level');
    fake = await startFakeRedis('6.2.14');
    const port = await freeLoopbackPort();
    const started = spawnNode(name, entry, { REDIS_URL: fake.url, HOST: '127.0.0.1', PORT: String(port), SERVE_CLIENT: 'false', LOG_FORMAT: 'json' });
    const { code, output } = await outcome(started);
    expect(code, output).toBe(1);
    const refusal = started.lines.map((line) => JSON.parse(line) as { level: number; msg: string }).find((line) => REFUSAL.test(line.msg));
    expect(refusal, output).toMatchObject({ level: 60, msg: expect.stringMatching(/^refusing to start: /) });
    // Refused before any work: nothing but handshakes and what bee-queue reads on connecting.
    expect(fake.commands.map(([command]) => command).filter((command) => !CONNECTING.includes(command!))).toEqual([]);
  });

  it('the server started while Redis is down comes up not ready, then refuses the Redis that comes up too old', async () => {
    expectErrors(REDIS_OUTAGE_ERRORS, 'Redis is not there yet at start');
    expectErrors(REFUSAL, 'the refusal is logged at fatal level');
    const redisPort = await freeLoopbackPort();
    const port = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    const started = spawnNode('server', 'server/main.ts', { REDIS_URL: `redis://127.0.0.1:${redisPort}`, HOST: '127.0.0.1', PORT: String(port), SERVE_CLIENT: 'false', LOG_FORMAT: 'json' });
    try {
      await waitFor(async () => (await fetch(`${url}/live`)).ok, { timeoutMs: 20_000, intervalMs: 100, message: 'the server to listen while Redis is down' });
      expect((await fetch(`${url}/ready`)).status).toBe(503);
      fake = await startFakeRedis('6.2.14', redisPort);
      const { code, output } = await outcome(started);
      expect(code, output).toBe(1);
      expect(output).toMatch(new RegExp(`refusing to run: ${REFUSAL.source}`));
    } finally {
      if (started.running()) started.signal('SIGKILL');
    }
  });

  it('npm start refuses it before starting anything', async () => {
    fake = await startFakeRedis('6.2.14');
    const port = await freeLoopbackPort();
    const result = await run(['scripts/start.ts'], { REDIS_URL: fake.url, PORT: String(port), WORKER_REPLICAS: '1', SERVE_CLIENT: 'false' });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^\\[start\\] ${REFUSAL.source}`, 'm'));
    expect(result.stdout).not.toMatch(/\[(server|worker-1)\]/);
  });

  it('npm run keys refuses it, storing nothing', async () => {
    fake = await startFakeRedis('6.2.14');
    const result = await run(['scripts/keys.ts', 'create', '--tenant', 'acme', '--scopes', 'tasks:read'], { REDIS_URL: fake.url });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^keys: ${REFUSAL.source}`));
    expect(result.stdout).not.toContain('created');
    expect(fake.commands.map(([command]) => command)).not.toContain('HSET');
  });
});
