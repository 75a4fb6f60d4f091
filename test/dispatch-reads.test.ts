/**
 * The dispatcher's counts as readers see them: a task named twice in one positions read gets its
 * position both times, and a direct claim that takes a task out of its line counts it as gone
 * (`atf_dispatch_waiting`). Both were found wrong while building the API, and fixed.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { createDispatchHarness } from './support/dispatch-harness.ts';
import { useSystem } from './support/fixtures.ts';

const system = useSystem({ server: false });

it('dispatchPositions answers a task named twice in one read with its position both times', async () => {
  const h = createDispatchHarness(system.redis.client);
  const first = await h.submit('acme');
  const second = await h.submit('acme');
  expect(await h.dispatch.positions([second, second, first])).toEqual([
    { position: 1, waitReason: 'QUEUED' },
    { position: 1, waitReason: 'QUEUED' },
    { position: 0, waitReason: 'QUEUED' },
  ]);
});

it('taskClaim counts a queued task it takes out of its line as dequeued, so atf_dispatch_waiting falls', async () => {
  const h = createDispatchHarness(system.redis.client);
  const id = await h.submit('acme');
  expect(await h.worker.claim(id, randomUUID(), 'acme')).toMatchObject({ status: 'claimed' });
  expect((await h.dispatch.policies())[0]).toMatchObject({ tenant: 'acme', waiting: 0 });
  expect((await h.dispatch.stats()).waiting).toEqual([{ tenant: 'acme', priority: 'NORMAL', value: 0 }]);
});
