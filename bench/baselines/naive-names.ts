/**
 * What the naive pipeline's server and worker (bench/baselines/naive-*.ts) must agree on:
 * its queue, channel and key names under one prefix of its own, and the update it publishes.
 */

export interface NaiveUpdate {
  id: string;
  state: 'COMPLETED';
  summary: string;
}

/** Names under `prefix` (default `naive`), apart from the service's `atf` and the bench's `bench`. */
export function naiveNames(prefix = 'naive') {
  return {
    beeQueuePrefix: `${prefix}:bq`,
    queue: 'summarize',
    /** Channel: the finished task's update, published once. */
    channel: (id: string) => `${prefix}:task:${id}`,
    /** String: the same update, kept a minute for a subscriber that came too late. */
    resultKey: (id: string) => `${prefix}:result:${id}`,
    resultTtlSeconds: 60,
  };
}
