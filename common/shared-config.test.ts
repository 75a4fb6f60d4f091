import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES as SERVER_VARIABLES, loadConfig as loadServerConfig } from '../server/config.ts';
import { ENV_VARIABLES as WORKER_VARIABLES, loadConfig as loadWorkerConfig } from '../worker/config.ts';
import { ConfigError } from './env.ts';
import { sharedEnvShape } from './shared-config.ts';

const SHARED = Object.keys(sharedEnvShape);
const problemsOf = (load: () => unknown) => {
  try {
    load();
    return [];
  } catch (error) {
    return error instanceof ConfigError ? error.problems : [String(error)];
  }
};

describe('settings both processes read', () => {
  it('are declared once and read by both', () => {
    for (const name of SHARED) {
      expect(SERVER_VARIABLES, name).toContain(name);
      expect(WORKER_VARIABLES, name).toContain(name);
    }
  });

  it.each([
    ['TASK_RETENTION_HOURS', '0.0002'],
    ['TASK_RETENTION_HOURS', '0.00001'],
    ['TASK_RETENTION_HOURS', '-1'],
    ['TASK_EVENTS_MAX', '5'],
    ['RETRY_RATIO', '1.5'],
    ['NODE_ENV', 'staging'],
  ])('%s=%s gets the same answer from both', (name, value) => {
    const server = problemsOf(() => loadServerConfig({ [name]: value }));
    const worker = problemsOf(() => loadWorkerConfig({ [name]: value }));
    expect(server).toEqual(worker);
  });

  it('gives both the same retention, event cap and retry shares', () => {
    const env = { TASK_RETENTION_HOURS: '2', TASK_EVENTS_MAX: '50', RETRY_RATIO: '0.5' };
    const server = loadServerConfig(env);
    const worker = loadWorkerConfig(env);
    expect(server.retentionMs).toBe(7_200_000);
    expect(worker.retentionMs).toBe(7_200_000);
    expect(server.idempotencyTtlSeconds).toBe(7200);
    expect([server.taskEventsMax, server.retryRatio]).toEqual([worker.taskEventsMax, worker.retryRatio]);
  });
});
