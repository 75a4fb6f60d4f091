import { describe, expect, it } from 'vitest';
import { QueueName } from '../schema/src/redis-keys.ts';
import { createWeightedSlots, DispatchClosedError } from './dispatch.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Queues `count` jobs on each queue and records the order in which they start. */
async function drain(slots: number, ratio: number, counts: Record<QueueName, number>) {
  const dispatch = createWeightedSlots({ slots, ratio: () => ratio });
  const order: QueueName[] = [];
  const jobs: Promise<unknown>[] = [];
  for (const queue of [QueueName.PRIMARY, QueueName.RETRY]) {
    for (let i = 0; i < counts[queue]; i += 1) {
      jobs.push(
        dispatch.run(queue, async () => {
          order.push(queue);
          await tick();
        }),
      );
    }
  }
  await Promise.all(jobs);
  return { order, dispatch };
}

describe('createWeightedSlots', () => {
  it('gives retries their share while both queues wait', async () => {
    const { order } = await drain(1, 0.3, { primary: 100, retry: 100 });
    // The first 100 grants happen while both queues still wait.
    const retries = order.slice(0, 100).filter((q) => q === QueueName.RETRY).length;
    expect(retries).toBeGreaterThanOrEqual(29);
    expect(retries).toBeLessThanOrEqual(31);
    // Spread out, not bunched: never more than one retry in a row at 0.3.
    expect(order.slice(0, 100).join(',')).not.toContain('retry,retry');
  });

  it('gives every slot to the only queue with work', async () => {
    const { order } = await drain(3, 0.3, { primary: 0, retry: 20 });
    expect(order).toEqual(Array(20).fill(QueueName.RETRY));
    const { order: primaryOnly } = await drain(3, 0.3, { primary: 20, retry: 0 });
    expect(primaryOnly).toEqual(Array(20).fill(QueueName.PRIMARY));
  });

  it('never runs more than its slots at once', async () => {
    const dispatch = createWeightedSlots({ slots: 2, ratio: () => 0.5 });
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        dispatch.run(i % 2 ? QueueName.RETRY : QueueName.PRIMARY, async () => {
          running += 1;
          peak = Math.max(peak, running);
          await tick();
          running -= 1;
        }),
      ),
    );
    expect(peak).toBe(2);
  });

  it('follows a ratio that changes while it runs (backlog thresholds)', async () => {
    let ratio = 0.3;
    const dispatch = createWeightedSlots({ slots: 1, ratio: () => ratio });
    const order: QueueName[] = [];
    const jobs = [];
    for (let i = 0; i < 200; i += 1) {
      const queue = i % 2 ? QueueName.RETRY : QueueName.PRIMARY;
      jobs.push(dispatch.run(queue, async () => {
        order.push(queue);
        if (order.length === 50) ratio = 0.1;
        await tick();
      }));
    }
    await Promise.all(jobs);
    // Grants 60-109: both queues still wait (100 primaries last past grant 110 at 0.9 share).
    const later = order.slice(60, 110).filter((q) => q === QueueName.RETRY).length;
    expect(later).toBeGreaterThanOrEqual(4);
    expect(later).toBeLessThanOrEqual(6);
  });

  it('releases waiters without running them once closed', async () => {
    const dispatch = createWeightedSlots({ slots: 1, ratio: () => 0.3 });
    let release!: () => void;
    const first = dispatch.run(QueueName.PRIMARY, () => new Promise<void>((resolve) => (release = resolve)));
    let ran = false;
    const second = dispatch.run(QueueName.PRIMARY, async () => {
      ran = true;
    });
    await tick();
    dispatch.close();
    await expect(second).rejects.toBeInstanceOf(DispatchClosedError);
    release();
    await first;
    expect(ran).toBe(false);
  });
});
