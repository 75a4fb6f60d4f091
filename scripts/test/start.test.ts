/**
 * `npm start` as a newcomer runs it: no REDIS_URL and nothing on the default address, so it
 * starts its own redis-server (AOF on), the API and the workers, prints the banner the README
 * shows before anything of its children; Ctrl-C stops all of them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redisAnswers } from '../lib/redis-resolver.ts';
import { freePort } from '../../test/support/redis-server.ts';
import { getTask, SAMPLE_TEXT, submitTask } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dataDir = mkdtempSync(join(tmpdir(), 'atf-start-'));
let child: ChildProcess | null = null;

afterAll(async () => {
  // After a failed test the supervisor still runs. SIGINT first: it stops its children, which
  // live in process groups of their own and would outlive a SIGKILL of it.
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    child.kill('SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

const BANNER_START = '[start] AsyncTaskFlow is running:';
const BANNER_END = '[start] press Ctrl-C to stop';

/** The banner's lines in `text`, with ports and the worker count (the test's choice) made neutral. */
function bannerLines(text: string): string[] {
  const lines = text.split('\n');
  const first = lines.indexOf(BANNER_START);
  const last = lines.indexOf(BANNER_END, first);
  expect(first, `no banner in:\n${text}`).toBeGreaterThanOrEqual(0);
  expect(last).toBeGreaterThan(first);
  return lines.slice(first, last + 1).map((line) => line.replace(/:\d+\//g, ':PORT/').replace(/workers {3}\d+/, 'workers   N'));
}

/** The banner as the README's Quick start shows it: the code block that opens with its first line. */
function readmeBanner(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const lines = readme.split('\n');
  expect(lines[lines.indexOf(BANNER_START) - 1], 'the banner opens a code block').toBe('```');
  return bannerLines(readme);
}


describe('npm start', () => {
  it('spawns Redis when none is given, runs the system, and stops every child on Ctrl-C', async () => {
    const port = await freePort();
    const closedPort = await freePort();
    // A newcomer sets neither REDIS_URL nor NODE_ENV (vitest sets NODE_ENV=test).
    const { REDIS_URL: _ignored, NODE_ENV: _mode, ...env } = process.env;
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'start.ts')], {
      cwd: ROOT,
      env: {
        ...env,
        PORT: String(port),
        WORKER_REPLICAS: '2',
        SERVE_CLIENT: 'false',
        LOG_LEVEL: 'warn',
        ATF_DEFAULT_REDIS_URL: `redis://127.0.0.1:${closedPort}`,
        ATF_DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));

    await waitFor(() => output.includes('press Ctrl-C to stop'), { timeoutMs: 45_000, message: `the ready banner; output so far:\n${output}` });
    expect(output).toMatch(/started redis-server on redis:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain(`web app   http://127.0.0.1:${port}/`);
    expect(output).toContain(`GraphQL   http://127.0.0.1:${port}/graphql`);
    // The README shows the banner as it is, and nothing of the children comes before it.
    expect(bannerLines(output)).toEqual(readmeBanner());
    const beforeBanner = output.slice(0, output.indexOf(BANNER_START)).trim().split('\n');
    expect(beforeBanner.every((line) => line.startsWith('[start] ')), beforeBanner.join('\n')).toBe(true);

    const server = { url: `http://127.0.0.1:${port}` };
    const health = await waitFor(async () => {
      const body = (await (await fetch(`${server.url}/health`)).json()) as { components: { workers: { alive: number } } };
      return body.components.workers.alive === 2 ? body : null;
    }, { timeoutMs: 20_000, message: 'two live workers' });
    expect(health.components.workers.alive).toBe(2);

    const task = await submitTask(server, SAMPLE_TEXT);
    await waitFor(async () => (await getTask(server, task.id))?.state === 'COMPLETED', { timeoutMs: 15_000, message: 'completion' });
    expect(readdirSync(dataDir).join(' ')).toMatch(/appendonly/);

    const redisPort = Number(/redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
    expect(redisPort).toBeGreaterThan(0);
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('[start] stopped');
    // One signal each: an orderly stop, not the forced exit a second signal means.
    expect(output).not.toContain('second signal');
    // Nothing is left listening: the API and the spawned Redis are gone.
    await expect(fetch(`${server.url}/live`)).rejects.toThrow();
    expect(await redisAnswers(`redis://127.0.0.1:${redisPort}`)).toBe(false);
    expect(existsSync(dataDir)).toBe(true);
  }, 90_000);

  it('explains how to get Redis when there is none to use or start', async () => {
    const closedPort = await freePort();
    const { REDIS_URL: _ignored, ...env } = process.env;
    const noRedis = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'start.ts')], {
      cwd: ROOT,
      // No redis-server on this PATH.
      env: { ...env, PATH: '/nonexistent', ATF_DEFAULT_REDIS_URL: `redis://127.0.0.1:${closedPort}`, ATF_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    noRedis.stdout!.on('data', (chunk) => (output += chunk));
    noRedis.stderr!.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => noRedis.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain('No Redis found');
    expect(output).toContain('apt-get install redis-server');
    expect(output).toContain('brew install redis');
    expect(output).toContain('docker compose');
  });
});
