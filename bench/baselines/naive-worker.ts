/**
 * Bench-only baseline: the naive pipeline's worker (see naive-pipeline.ts). A bee-queue
 * process loop at NAIVE_CONCURRENCY (default 100) running a no-op "summary"; the result is
 * SET under the result key (for a subscriber that came late), then published through
 * graphql-redis-subscriptions. No lease, no stall checks, no retries, no task record.
 */
import BeeQueue from 'bee-queue';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import { beeQueueRedisOptions, parseRedisUrl } from '../../common/redis-connection.ts';
import { naiveNames, type NaiveUpdate } from './naive-names.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const names = naiveNames(process.env.NAIVE_PREFIX);
// The worker settings the stack notes give (trap 6), and finished jobs removed, not kept.
const queue = new BeeQueue<{ content: string }>(names.queue, {
  prefix: names.beeQueuePrefix,
  redis: beeQueueRedisOptions(parseRedisUrl(redisUrl)),
  getEvents: false,
  sendEvents: false,
  storeJobs: false,
  removeOnSuccess: true,
  removeOnFailure: true,
});
const publisher = new Redis(redisUrl);
// RedisPubSub wants both connections; this process only publishes, so the subscriber stays idle.
const pubsub = new RedisPubSub({ publisher, subscriber: new Redis(redisUrl, { lazyConnect: true }) });

// The summary is a no-op, like the service's PROVIDER=noop: the pipeline is what is measured.
queue.process(Number(process.env.NAIVE_CONCURRENCY ?? 100), async (job) => {
  const update: NaiveUpdate = { id: job.id, state: 'COMPLETED', summary: 'noop' };
  await publisher.set(names.resultKey(job.id), JSON.stringify(update), 'EX', names.resultTtlSeconds);
  await pubsub.publish(names.channel(job.id), update);
  return null;
});
await queue.ready();
console.log(JSON.stringify({ msg: 'baseline listening' }));
process.on('SIGTERM', () => process.exit(0));
