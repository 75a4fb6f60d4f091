/**
 * Bench-only baseline: raw bee-queue no-op jobs at BENCH_CONCURRENCY, with the worker's own
 * queue settings, on the queue BENCH_QUEUE. Prints "baseline done" after BENCH_JOBS jobs.
 */
import BeeQueue from 'bee-queue';
import { beeQueueRedisOptions, parseRedisUrl } from '../../common/redis-connection.ts';

const expected = Number(process.env.BENCH_JOBS ?? 1000);
const queue = new BeeQueue(process.env.BENCH_QUEUE ?? 'raw', {
  prefix: 'bench:bq',
  redis: beeQueueRedisOptions(parseRedisUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')),
  getEvents: false,
  sendEvents: false,
  storeJobs: false,
  activateDelayedJobs: true,
  removeOnSuccess: true,
  removeOnFailure: true,
  stallInterval: 5000,
});
let done = 0;
queue.process(Number(process.env.BENCH_CONCURRENCY ?? 10), async () => {
  done += 1;
  if (done === expected) console.log(JSON.stringify({ msg: 'baseline done', done }));
  return null;
});
await queue.ready();
// bee-queue checks for stalled jobs only when asked, as the real worker does.
await queue.checkStalledJobs(5000);
console.log(JSON.stringify({ msg: 'baseline listening' }));
process.on('SIGTERM', () => process.exit(0));
