/**
 * The dashboard's task flow: every transition is counted by the task scripts in a
 * per-minute Redis hash that expires, read the same by every server, queried and watched live.
 */
import { describe, expect, it } from 'vitest';
import { FLOW_BUCKET_TTL_MS } from '../../schema/src/scripts/prelude.ts';
import { useSystem } from '../../test/support/fixtures.ts';
import { graphql, SAMPLE_TEXT, submitTask, subscribe, waitForTask, type RunningServer } from '../../test/support/system.ts';
import { parseFlowFields } from '../services/flow-service.ts';

interface Flow {
  minutes: number;
  at: string;
  buckets: { start: string; transitions: { from: string | null; to: string | null; count: number }[] }[];
}
const FLOW_FIELDS = 'minutes at buckets { start transitions { from to count } }';

const system = useSystem({ wsClient: true });
const { keys } = system;

/** Sums one edge over every bucket. */
const total = (flow: Flow, from: string | null, to: string | null) =>
  flow.buckets.flatMap((bucket) => bucket.transitions).filter((t) => t.from === from && t.to === to).reduce((sum, t) => sum + t.count, 0);

const queryFlow = async (on: RunningServer, minutes?: number) => {
  const response = await graphql<{ taskFlow: Flow }>(on, `query ($minutes: Int) { taskFlow(minutes: $minutes) { ${FLOW_FIELDS} } }`, { minutes });
  if (!response.data) throw new Error(JSON.stringify(response.errors));
  return response.data.taskFlow;
};

describe('task flow', () => {
  it('counts submits, claims, completions and deletions per minute, the same on every server', async () => {
    const ids: string[] = [];
    const { server } = system;
    for (let i = 0; i < 3; i += 1) ids.push((await submitTask(server, `${SAMPLE_TEXT} Flow ${i}.`)).id);
    const worker = await system.startWorker();
    for (const id of ids) await waitForTask(server, id, 'COMPLETED', { timeoutMs: 20_000 });
    await worker.stop(100);
    const deleted = await graphql<{ deleteTask: boolean }>(server, 'mutation ($id: ID!) { deleteTask(id: $id) }', { id: ids[0] });
    expect(deleted.data?.deleteTask).toBe(true);

    const flow = await queryFlow(server);
    expect(flow.minutes).toBe(15);
    expect(flow.buckets).toHaveLength(15);
    // Oldest first, a minute apart, the last one holds "now".
    const starts = flow.buckets.map((bucket) => Date.parse(bucket.start));
    starts.slice(1).forEach((start, i) => expect(start - starts[i]!).toBe(60_000));
    expect(Date.parse(flow.at) - starts.at(-1)!).toBeLessThan(60_000);
    expect(total(flow, null, 'PENDING')).toBe(3);
    expect(total(flow, 'PENDING', 'ACTIVE')).toBe(3);
    expect(total(flow, 'ACTIVE', 'COMPLETED')).toBe(3);
    expect(total(flow, 'COMPLETED', null)).toBe(1);
    // A second server reads the same counters: they live in Redis, not in a process.
    expect(await queryFlow(await system.startServer())).toMatchObject({ buckets: flow.buckets });

    // Time-bucketed keys, each with an expiry.
    const bucketKeys = await system.redis.client.keys(`${keys.taskFlowPrefix()}*`);
    expect(bucketKeys.length).toBeGreaterThanOrEqual(1);
    for (const key of bucketKeys) {
      expect(Number(key.slice(keys.taskFlowPrefix().length)) % 60_000).toBe(0);
      const ttl = await system.redis.client.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(FLOW_BUCKET_TTL_MS);
    }
  });

  it('sends the flow live: a snapshot, then the change a new task makes', async () => {
    const sub = subscribe<Flow>(system.client, `subscription { taskFlowUpdated(minutes: 5) { ${FLOW_FIELDS} } }`, {}, 'taskFlowUpdated');
    try {
      const first = await sub.waitFor(() => true);
      expect(first.buckets).toHaveLength(5);
      const before = total(first, null, 'PENDING');
      await submitTask(system.server, `${SAMPLE_TEXT} Live flow.`);
      await sub.waitFor((flow) => total(flow, null, 'PENDING') === before + 1);
      expect(sub.errors).toEqual([]);
    } finally {
      sub.dispose();
    }
  });

  it('refuses a window outside 1 to 60 minutes', async () => {
    const response = await graphql(system.server, '{ taskFlow(minutes: 0) { minutes } }');
    expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await queryFlow(system.server, 60)).buckets).toHaveLength(60);
  });

  it('skips counter fields it does not know', () => {
    expect(parseFlowFields({ '>PENDING': '2', 'PENDING>ACTIVE': '1', 'ACTIVE>': '1', 'X>Y': '5', 'pending>ACTIVE': '3', 'ACTIVE>PAUSED': '4', junk: '1' })).toEqual([
      { from: null, to: 'PENDING', count: 2 },
      { from: 'PENDING', to: 'ACTIVE', count: 1 },
      { from: 'ACTIVE', to: null, count: 1 },
    ]);
  });
});
