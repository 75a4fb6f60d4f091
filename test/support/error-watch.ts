/**
 * Collects the `error` events of what the test fixtures create: the assertion ioredis client,
 * redis-server and other child processes, graphql-ws clients, and (through their logger, see
 * silent-logger.ts) the Redis connections and bee-queue queues inside the in-process server
 * and worker. A test fails on one it did not declare with `expectErrors` (the check is
 * registered by `useSystem` in fixtures.ts).
 *
 * No vitest import here: chaos/ and bench/ start Redis through redis-server.ts outside vitest;
 * there errors are collected (a bounded list) and nobody checks them.
 */

interface Expectation {
  pattern: RegExp;
  reason: string;
}

/**
 * What ioredis, node_redis (inside bee-queue) and our processes say while Redis is away. "Ready
 * check failed" is ioredis' word for a reconnect whose first INFO fails: Redis was still starting
 * (loading its AOF) or went away again (seen once on a loaded machine, on the API server's queue
 * connection, as Redis came back).
 */
export const REDIS_OUTAGE_ERRORS = /ECONNREFUSED|ECONNRESET|EPIPE|Connection is closed|connection (lost|closed)|Stream isn't writeable|Redis connection .* failed|socket hang up|Ready check failed/i;

// Kept as `source: message` with a count: an outage repeats the same few lines many times, and a
// chaos run that restarts Redis for minutes must not grow this without bound.
const MAX_DISTINCT = 200;
const caught = new Map<string, number>();
let dropped = 0;
let expectations: Expectation[] = [];

/** Records one error event from `source` (e.g. `redis client`, `worker log`, `redis-server process`). */
export function recordError(source: string, error: unknown): void {
  const message = error instanceof Error ? error.message || error.name : String(error);
  const line = `${source}: ${message}`;
  if (!caught.has(line) && caught.size >= MAX_DISTINCT) dropped += 1;
  else caught.set(line, (caught.get(line) ?? 0) + 1);
}

/**
 * Attaches an `error` listener to `emitter` that records each event under `source`. It also
 * stops an unhandled `error` from crashing the test process: the check reports it instead.
 */
export function watchErrors(source: string, emitter: { on(event: 'error', listener: (error: Error) => void): unknown }): void {
  emitter.on('error', (error) => recordError(source, error));
}

/**
 * Declares that errors matching `pattern` (tested against `source: message`) are part of the
 * current test, and why. Holds until the end of the test (or, declared in a beforeAll, until
 * the end of the first test).
 */
export function expectErrors(pattern: RegExp, reason: string): void {
  expectations.push({ pattern, reason });
}

/**
 * Takes every error recorded since the last call and returns those no expectation covers,
 * one line each (`source: message (×count)`); clears the expectations.
 */
export function takeUnexpectedErrors(): string[] {
  const unexpected = [...caught]
    .filter(([line]) => !expectations.some((expectation) => expectation.pattern.test(line)))
    .map(([line, count]) => (count > 1 ? `${line} (x${count})` : line));
  if (dropped > 0) unexpected.push(`(and ${dropped} more distinct errors, not kept)`);
  caught.clear();
  dropped = 0;
  expectations = [];
  return unexpected;
}
