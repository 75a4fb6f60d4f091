/**
 * Two pipelines under load at the same time, each on a redis-server of its own (issue 25):
 * starting and stopping an arm of ours or of the BullMQ peer (bench/peer/), and reading an
 * arm's Redis command counts (INFO commandstats) over a measured window.
 *
 * Kept apart from bench/scenarios/tracing.ts' arms, which are private to that scenario and
 * always ours on both sides.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { startScript, type Service } from '../../chaos/services.ts';
import { startRedis } from '../../test/support/redis-server.ts';
import { ourPipeline, type Pipeline, type WindowHooks } from './end-to-end.ts';
import { startApiServer, startWorkers, stopAll, type BenchSystem, type Running } from './system.ts';

const PEER = join(import.meta.dirname, '..', 'peer');

/** One arm: its own Redis, an API process and its workers, and what endToEnd drives. */
export interface PipelineArm {
  label: string;
  /** The bench system with this arm's Redis in it. */
  system: BenchSystem;
  pipeline: Pipeline;
  /** Stops its processes, then its Redis. */
  stop(): Promise<void>;
}

/**
 * Starts an arm's processes on a redis-server of its own (AOF on, as the bench's). If any
 * fails to start, stops the rest and the Redis, and throws its error.
 */
async function startArm(system: BenchSystem, label: string, start: (own: BenchSystem) => [Promise<Running>, Promise<Service[]>]): Promise<PipelineArm> {
  const own: BenchSystem = { ...system, redis: await startRedis({ appendOnly: true }) };
  const [api, workers] = await Promise.allSettled(start(own));
  if (api.status === 'rejected' || workers.status === 'rejected') {
    await Promise.allSettled([api.status === 'fulfilled' ? api.value.stop() : null, workers.status === 'fulfilled' ? stopAll(workers.value) : null]);
    await own.redis.dispose();
    throw api.status === 'rejected' ? api.reason : (workers as PromiseRejectedResult).reason;
  }
  return {
    label,
    system: own,
    pipeline: ourPipeline(api.value, workers.value.map((worker) => worker.pid)),
    stop: async () => {
      await Promise.allSettled([api.value.stop(), stopAll(workers.value)]);
      await own.redis.dispose();
    },
  };
}

/** Our API server and `workers` workers at `concurrency` slots each, PROVIDER=noop. */
export function startOurArm(system: BenchSystem, workers: number, concurrency: number): Promise<PipelineArm> {
  return startArm(system, 'ours', (own) => [startApiServer(own), startWorkers(own, workers, { WORKER_CONCURRENCY: String(concurrency) })]);
}

/**
 * The BullMQ peer: bench/peer/server.ts and `workers` bench/peer/worker.ts processes at
 * `concurrency` each. Its GraphQL documents are ours, so `ourPipeline` drives it too.
 */
export function startPeerArm(system: BenchSystem, workers: number, concurrency: number): Promise<PipelineArm> {
  return startArm(system, 'BullMQ peer', (own) => {
    // NODE_ENV as ours runs with: Apollo's production defaults (no landing page, no stack traces).
    const env = { REDIS_URL: own.redis.url, NODE_ENV: 'production' };
    const server = startScript(join(PEER, 'server.ts'), 'peer listening', 'peer-server', { ...env, PORT: '0' }).then((service): Running => {
      const { port } = JSON.parse(service.lines.find((line) => line.includes('peer listening'))!) as { port: number };
      return { service, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/graphql`, stop: async () => void (await stopAll([service])) };
    });
    const started = Promise.all(
      Array.from({ length: workers }, (_, i) => startScript(join(PEER, 'worker.ts'), 'peer worker ready', `peer-worker-${i}`, { ...env, PEER_CONCURRENCY: String(concurrency) })),
    );
    return [server, started];
  });
}

/** Calls of every command so far, by name, scripts' inner commands included (INFO commandstats). */
export async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map(([, name, calls]) => [name!, Number(calls)]));
}

/** Calls per command between two readings (what a window cost), the readings' own INFO left out. */
export function callsBetween(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const calls = new Map<string, number>();
  for (const [name, count] of after) {
    const delta = count - (before.get(name) ?? 0) - (name === 'info' ? 1 : 0);
    if (delta > 0) calls.set(name, delta);
  }
  return calls;
}

/**
 * Window hooks for endToEnd that read `redis`' command counts as the window opens and closes;
 * `calls()` (after endToEnd resolved) gives the window's calls by command.
 */
export function commandWindow(redis: Redis): WindowHooks & { calls(): Promise<Map<string, number>> } {
  let before: Promise<Map<string, number>> | null = null;
  let after: Promise<Map<string, number>> | null = null;
  return {
    opened: () => void (before = commandCalls(redis)),
    closed: () => void (after = commandCalls(redis)),
    calls: async () => {
      if (!before || !after) throw new Error('the window never opened or closed');
      return callsBetween(await before, await after);
    },
  };
}
