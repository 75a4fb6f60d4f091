import { describe, expect, it } from 'vitest';
import { loadConfig as loadServerConfig } from '../server/config.ts';
import { loadConfig as loadWorkerConfig } from '../worker/config.ts';
import { ConfigError } from './env.ts';

describe('loadConfig', () => {
  it('fills defaults from an empty environment', () => {
    const server = loadServerConfig({});
    expect(server).toMatchObject({ port: 8000, host: '127.0.0.1', redisUrl: 'redis://127.0.0.1:6379', maxRetries: 3 });
    const worker = loadWorkerConfig({ OPENROUTER_API_KEY: '' });
    expect(worker.openRouter).toBeNull();
    expect(worker).toMatchObject({ concurrency: 4, leaseMs: 30_000, stallIntervalMs: 5000, retryDelayScale: 1 });
  });

  it('lists every invalid variable in one error', () => {
    try {
      loadServerConfig({ PORT: 'eighty', MAX_RETRIES: '-1', REDIS_URL: 'http://x' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/PORT/);
      expect(problems).toMatch(/MAX_RETRIES/);
      expect(problems).toMatch(/REDIS_URL/);
    }
  });

  it('turns on OpenRouter only with a key, and trims the base URL', () => {
    const worker = loadWorkerConfig({ OPENROUTER_API_KEY: 'sk', OPENROUTER_BASE_URL: 'http://127.0.0.1:9/api/v1/' });
    expect(worker.openRouter).toEqual({ apiKey: 'sk', baseUrl: 'http://127.0.0.1:9/api/v1', model: 'openai/gpt-4o-mini' });
  });

  it('reads per-class retry schedules, and refuses unknown classes and broken JSON', () => {
    const worker = loadWorkerConfig({ RETRY_SCHEDULES: '{"RATE_LIMIT": {"maxRetries": 6}}' });
    expect(worker.retryPolicy.RATE_LIMIT.maxRetries).toBe(6);
    expect(worker.retryPolicy.RATE_LIMIT.delaysMs.length).toBeGreaterThan(0);
    expect(() => loadWorkerConfig({ RETRY_SCHEDULES: '{"SLOWNESS": {"maxRetries": 1}}' })).toThrow(ConfigError);
    expect(() => loadWorkerConfig({ RETRY_SCHEDULES: '{not json' })).toThrow(/RETRY_SCHEDULES/);
    expect(() => loadWorkerConfig({ RETRY_SCHEDULES: '{"STALLED": {"maxRetries": 1}}' })).toThrow(/RETRY_SCHEDULES/);
    expect(() => loadWorkerConfig({ CIRCUIT_FAILURE_THRESHOLD: '1' })).toThrow(/CIRCUIT_FAILURE_THRESHOLD/);
    expect(() => loadWorkerConfig({ PROVIDER_RATE_LIMIT: 'lots' })).toThrow(/PROVIDER_RATE_LIMIT/);
  });
});
