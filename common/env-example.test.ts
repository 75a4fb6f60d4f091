/** `.env.example` is the configuration reference: it must list every variable with its true default. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES as SERVER_VARIABLES, loadConfig as loadServerConfig } from '../server/config.ts';
import { ENV_VARIABLES as WORKER_VARIABLES, loadConfig as loadWorkerConfig } from '../worker/config.ts';

const ROOT = join(import.meta.dirname, '..');
const example = new Map<string, string>();
for (const line of readFileSync(join(ROOT, '.env.example'), 'utf8').split('\n')) {
  const match = /^#?\s?([A-Z][A-Z0-9_]+)=(.*)$/.exec(line.trim());
  if (match) example.set(match[1]!, match[2]!.replace(/\s+\(.*\)$/, '').trim());
}
const set = (names: readonly string[]) => Object.fromEntries(names.filter((n) => example.has(n)).map((n) => [n, example.get(n)]));

describe('.env.example', () => {
  it('lists every variable the server and the worker read, and WORKER_REPLICAS for npm start', () => {
    for (const name of [...SERVER_VARIABLES, ...WORKER_VARIABLES, 'WORKER_REPLICAS']) {
      expect(example.has(name), `${name} missing from .env.example`).toBe(true);
    }
  });

  it('gives the same defaults the loaders use', () => {
    const { workerId: _a, ...workerDefaults } = loadWorkerConfig({});
    const { workerId: _b, ...workerFromExample } = loadWorkerConfig(set(WORKER_VARIABLES));
    expect(workerFromExample).toEqual(workerDefaults);
    expect(loadServerConfig(set(SERVER_VARIABLES))).toEqual(loadServerConfig({}));
  });
});
