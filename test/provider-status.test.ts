/**
 * providerStatus: what the workers' checks of OpenRouter's key endpoint found, live, and the
 * shared rate-limit pause on top of it.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { describe, expect, it } from 'vitest';
import { defaultAnswer, errorAnswer, unlimitedKey } from '../tools/fake-openrouter.ts';
import { useSystem } from './support/fixtures.ts';
import { getTask, graphql, SAMPLE_TEXT, submitTask, subscribe, TASK_FIELDS } from './support/system.ts';
import { keysContaining } from './support/redis-text.ts';
import { waitFor } from './support/wait-for.ts';

type Status = { state: string; creditsRemaining: number | null; rateLimitedUntil: string | null; checkedAt: string };
const STATUS = `{ providerStatus { state creditsRemaining rateLimitedUntil checkedAt } }`;

const system = useSystem({ fake: true, wsClient: true });
/** A worker's environment without the fake provider: the embedded summarizer, unless OPENROUTER_MODEL asks for OpenRouter. */
const NO_PROVIDER = { OPENROUTER_API_KEY: undefined, OPENROUTER_BASE_URL: undefined };
const statusNow = async () => (await graphql<{ providerStatus: Status }>(system.server, STATUS)).data!.providerStatus;

describe('providerStatus', () => {
  it('says UNAVAILABLE before any worker checked, LOCAL with the embedded summarizer, KEY_MISSING without a key', async () => {
    expect((await statusNow()).state).toBe('UNAVAILABLE');
    const local = await system.startWorker({ ...NO_PROVIDER, PROVIDER_STATUS_INTERVAL_MS: '100' });
    await waitFor(async () => (await statusNow()).state === 'LOCAL', { message: 'LOCAL' });
    await local.stop(100);
    // Asked for OpenRouter (a model named) without a key.
    await system.startWorker({ ...NO_PROVIDER, PROVIDER_STATUS_INTERVAL_MS: '100', OPENROUTER_MODEL: 'some/model' });
    await waitFor(async () => (await statusNow()).state === 'KEY_MISSING', { message: 'KEY_MISSING' });
  });

  it('follows the key endpoint live: active, credits exhausted, invalid key, and a rate-limit pause', async () => {
    const { redis, keys } = system;
    const { fake } = system;
    const live = subscribe<Status>(system.client, `subscription { providerStatusUpdated { state creditsRemaining rateLimitedUntil checkedAt } }`, {}, 'providerStatusUpdated');
    // A key with zero usage and credit left is active.
    fake.keyInfo(() => ({ status: 200, body: { data: { usage: 0, limit: 10, limit_remaining: 10 } } }));
    await redis.client.del(keys.providerStatusLock());
    await system.startWorker({ PROVIDER_STATUS_INTERVAL_MS: '100' });
    try {
      await live.waitFor((status) => status.state === 'ACTIVE' && status.creditsRemaining === 10);
      fake.keyInfo(() => ({ status: 200, body: { data: { usage: 10, limit: 10, limit_remaining: 0 } } }));
      await live.waitFor((status) => status.state === 'CREDITS_EXHAUSTED');
      fake.keyInfo(() => errorAnswer(401, 'Invalid API key'));
      await live.waitFor((status) => status.state === 'KEY_INVALID');
      fake.keyInfo(unlimitedKey);
      await live.waitFor((status) => status.state === 'ACTIVE' && status.creditsRemaining === null);

      await redis.client.set(keys.providerPausedUntil(), String(Date.now() + 60_000));
      const limited = await waitFor(async () => {
        const status = await statusNow();
        return status.state === 'RATE_LIMITED' ? status : null;
      }, { message: 'RATE_LIMITED' });
      expect(Date.parse(limited.rateLimitedUntil!)).toBeGreaterThan(Date.now());
      expect(live.errors).toEqual([]);
      // The key went to the provider only in the Authorization header.
      const keyCalls = fake.keyRequests;
      expect(keyCalls.length).toBeGreaterThan(0);
      expect(keyCalls.every((request) => request.headers.authorization === 'Bearer sk-test')).toBe(true);
    } finally {
      live.dispose();
      await redis.client.del(keys.providerPausedUntil());
    }
  });

  it('keeps the provider key out of logs, Redis, every answer and the client bundle (canary)', { timeout: 60_000 }, async () => {
    const { redis, server } = system;
    const { fake } = system;
    const canary = 'sk-or-v1-CANARY-0f9e8d7c6b5a';
    const worker = await system.spawnWorker({ OPENROUTER_API_KEY: canary, LOG_LEVEL: 'trace', PROVIDER_STATUS_INTERVAL_MS: '100' });
    try {
      fake.script((request) => (JSON.stringify(request.body).includes('Canary one') ? errorAnswer(401, 'Invalid credentials') : defaultAnswer(request)));
      const failing = await submitTask(server, `${SAMPLE_TEXT} Canary one.`);
      const working = await submitTask(server, `${SAMPLE_TEXT} Canary two.`);
      await waitFor(async () => {
        const [a, b] = await Promise.all([getTask(server, failing.id), getTask(server, working.id)]);
        return a?.state === 'DLQ' && b?.state === 'COMPLETED';
      }, { message: 'both tasks to finish' });

      // It did go out, in the Authorization header.
      expect(fake.requests.some((request) => request.headers.authorization === `Bearer ${canary}`)).toBe(true);
      // Nowhere else: the worker's logs at trace level, Redis, the API's answers.
      expect(worker.lines.join('\n')).not.toContain(canary.slice(8));
      expect(await keysContaining(redis.client, canary.slice(8))).toEqual([]);
      expect((await redis.client.keys('*')).length).toBeGreaterThan(5);
      const answers = await Promise.all([
        graphql(server, `query ($a: ID!, $b: ID!) { a: task(id: $a) { ${TASK_FIELDS} } b: task(id: $b) { ${TASK_FIELDS} } }`, { a: failing.id, b: working.id }),
        graphql(server, STATUS),
        graphql(server, `{ workers { id circuit { state } } }`),
        fetch(`${server.url}/health`).then((response) => response.text()),
        fetch(`${server.url}/health/workers`).then((response) => response.text()),
      ]);
      expect(JSON.stringify(answers)).not.toContain(canary.slice(8));
      // The client bundle, built with the key in the environment, does not carry it either.
      const bundleDir = mkdtempSync(join(tmpdir(), 'atf-canary-bundle-'));
      const saved = process.env.OPENROUTER_API_KEY;
      process.env.OPENROUTER_API_KEY = canary;
      try {
        await build({ configFile: join(import.meta.dirname, '..', 'client', 'vite.config.ts'), logLevel: 'error', build: { outDir: bundleDir, emptyOutDir: true } });
        const files = readdirSync(bundleDir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
        expect(files.length).toBeGreaterThan(1);
        for (const file of files) expect(readFileSync(join(file.parentPath, file.name), 'utf8')).not.toContain(canary.slice(8));
      } finally {
        if (saved === undefined) delete process.env.OPENROUTER_API_KEY;
        else process.env.OPENROUTER_API_KEY = saved;
        rmSync(bundleDir, { recursive: true, force: true });
      }
    } finally {
      worker.signal('SIGTERM');
      await worker.exited;
    }
  });
});
