/**
 * Shares a worker's slots between the primary and the retry queue. When both have jobs
 * waiting for a slot, retries get `ratio()` of the grants (smooth weighted round robin: exact
 * over any long run, never more than one grant off); when only one has jobs, it gets every
 * slot, so neither queue idles capacity the other could use.
 *
 * bee-queue pulls a job before the handler runs, so pulled jobs wait here for a slot (the
 * runner lets each queue pull one more than the slots); they stay protected from stall
 * detection meanwhile.
 */
import { QueueName } from '../schema/src/redis-keys.ts';

export interface WeightedSlotsOptions {
  slots: number;
  /** Share of grants for the retry queue while both queues wait, in [0, 1]. */
  ratio: () => number;
}

export class DispatchClosedError extends Error {
  override name = 'DispatchClosedError';
}

export function createWeightedSlots(options: WeightedSlotsOptions) {
  let free = options.slots;
  let closed = false;
  const waiting: Record<QueueName, (() => void)[]> = { [QueueName.PRIMARY]: [], [QueueName.RETRY]: [] };
  const credit: Record<QueueName, number> = { [QueueName.PRIMARY]: 0, [QueueName.RETRY]: 0 };
  const granted: Record<QueueName, number> = { [QueueName.PRIMARY]: 0, [QueueName.RETRY]: 0 };

  function pick(): QueueName | null {
    const primary = waiting.primary.length > 0;
    const retry = waiting.retry.length > 0;
    if (!primary && !retry) return null;
    if (!primary) return QueueName.RETRY;
    if (!retry) return QueueName.PRIMARY;
    const ratio = Math.min(1, Math.max(0, options.ratio()));
    credit.retry += ratio;
    credit.primary += 1 - ratio;
    const chosen = credit.retry > credit.primary ? QueueName.RETRY : QueueName.PRIMARY;
    credit[chosen] -= 1;
    return chosen;
  }

  function grant(): void {
    while (free > 0) {
      const queue = pick();
      if (!queue) return;
      free -= 1;
      granted[queue] += 1;
      waiting[queue].shift()!();
    }
  }

  return {
    /**
     * Runs `work` once a slot is granted to `queue`, then frees the slot. Rejects with
     * DispatchClosedError, without running `work`, once closed.
     */
    async run<T>(queue: QueueName, work: () => Promise<T>): Promise<T> {
      if (closed) throw new DispatchClosedError('dispatch closed');
      await new Promise<void>((resolve) => {
        waiting[queue].push(resolve);
        grant();
      });
      if (closed) {
        free += 1;
        throw new DispatchClosedError('dispatch closed');
      }
      try {
        return await work();
      } finally {
        free += 1;
        grant();
      }
    },
    /** Refuses new work and releases every waiter without running it. */
    close(): void {
      closed = true;
      for (const queue of [QueueName.PRIMARY, QueueName.RETRY]) waiting[queue].splice(0).forEach((resolve) => resolve());
    },
    running: () => options.slots - free,
    /** Grants so far per queue (for tests and metrics). */
    granted: () => ({ ...granted }),
  };
}
