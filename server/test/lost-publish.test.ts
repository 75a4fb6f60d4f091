/**
 * A lost publish: a task changes in Redis and its event never reaches the API server (pub/sub
 * is at-most-once). Every open watch still delivers the change, in version order, within a few
 * resync intervals: the server's one resync ticker re-reads each watched task in turn.
 */
import { describe, expect, it } from 'vitest';
import { TransitionReason } from '../../schema/src/transition-reasons.ts';
import { useSystem } from '../../test/support/fixtures.ts';
import { SAMPLE_TEXT, submitTask, subscribe } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const system = useSystem({ server: { SUBSCRIPTION_RESYNC_MS: '300' }, wsClient: true });

describe('a lost publish', () => {
  it('reaches every open watch through the resync, gap-free', async () => {
    const { server, client, keys } = system;
    // The same scripts and keys, publishing where no server listens: every event is lost.
    const silent = system.repository({ ...keys, tasksChannel: () => `${system.prefix}:events:nowhere` });
    const tasks = await Promise.all(Array.from({ length: 30 }, (_, i) => submitTask(server, `${SAMPLE_TEXT} Lost ${i}.`)));
    const watches = tasks.map((task) =>
      subscribe<{ state: string; version: number }>(client, 'subscription ($id: ID!) { taskUpdated(id: $id) { state version } }', { id: task.id }, 'taskUpdated'),
    );
    for (const watch of watches) await watch.waitFor((event) => event.state === 'PENDING');

    for (const task of tasks) expect((await silent.cancel({ id: task.id, tenant: 'default' }, 'test', TransitionReason.CANCELLED_BY_OPERATOR)).status).toBe('ok');

    await waitFor(() => watches.every((watch) => watch.events.some((event) => event.state === 'CANCELLED')), { timeoutMs: 5000, message: 'every watch to see CANCELLED' });
    for (const watch of watches) {
      expect(watch.events.map((event) => event.version)).toEqual([1, 2]);
      expect(watch.errors).toEqual([]);
      watch.dispose();
    }
  });
});
