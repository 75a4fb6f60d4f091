/**
 * The bench's BullMQ peer (bench/peer/, issue 25) completes tasks end to end: its server and a
 * worker process on a redis-server of their own, driven by the bench's own closed loop and
 * GraphQL documents. Guards `npm run bench -- --only peer` without running it.
 */
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandWindow, startPeerArm, type PipelineArm } from '../bench/lib/peer-arms.ts';
import { postGraphQL } from '../bench/lib/measure.ts';
import { closeWsClients, openWsClients, type BenchSystem } from '../bench/lib/system.ts';
import { endToEnd } from '../bench/lib/end-to-end.ts';

const WATCH = 'subscription ($id: ID!) { taskUpdated(id: $id) { id state version } }';

/** Every state the subscription on `id` sends, up to its end. */
function statesOf(client: Client, id: string): Promise<string[]> {
  const states: string[] = [];
  return new Promise((resolve, reject) => {
    client.subscribe<{ taskUpdated: { state: string } }>(
      { query: WATCH, variables: { id } },
      { next: (result) => void states.push(result.data!.taskUpdated.state), error: reject, complete: () => resolve(states) },
    );
  });
}

describe('the BullMQ peer of the bench', () => {
  let arm: PipelineArm;
  beforeAll(async () => {
    // startPeerArm starts a Redis of its own: the system's Redis is never read.
    const system = { quick: true, reps: 1, log: () => undefined } as unknown as BenchSystem;
    arm = await startPeerArm(system, 1, 10);
  });
  afterAll(async () => {
    await arm?.stop();
  });

  it('answers a submit with a task, and its subscription ends COMPLETED, also for a late subscriber', async () => {
    const [client] = await openWsClients(arm.pipeline.wsUrl, 1);
    try {
      const answer = await postGraphQL(arm.pipeline.url, arm.pipeline.submitBody(1));
      const id = arm.pipeline.submittedId(answer)!;
      expect(answer.data?.submitTask).toEqual({ id, state: 'PENDING', version: 1 });
      expect((await statesOf(client!, id)).at(-1)).toBe('COMPLETED');
      // Subscribed after the end: the state read covers it, with nothing left to wait for.
      expect(await statesOf(client!, id)).toEqual(['COMPLETED']);
    } finally {
      await closeWsClients([client!]);
    }
  });

  it("runs the bench's closed loop without an error, and counts the window's Redis commands", async () => {
    const window = commandWindow(arm.system.redis.client);
    const result = await endToEnd(arm.system, arm.pipeline, 5, 0.5, { hooks: window });
    expect(result.errors).toBe(0);
    expect(result.tasks).toBeGreaterThan(10);
    const calls = await window.calls();
    expect(calls.get('evalsha')).toBeGreaterThan(result.tasks);
  });
});
