/**
 * The task store, seen from the running attempt's span: how the attempt ended (completed, a
 * retry scheduled, the DLQ, deferred and why, handed back, or refused as stale) and the budget
 * hold before its call as a span of its own. A wrapper: the store itself knows nothing of
 * tracing. The attempt is found by the lease a write names; a write outside a running attempt
 * (the sweeper, held releases) finds none and is left alone.
 */
import { AtfEvent, Atf, General } from '../../common/semconv.ts';
import { TaskState } from '../../schema/src/task.ts';
import type { TaskStore, WriteOutcome } from '../task-store.ts';
import type { AttemptRegistry } from './attempt-trace.ts';

const stale = (outcome: WriteOutcome) => outcome.status === 'stale';

export function traceTaskStore(store: TaskStore, attempts: AttemptRegistry): TaskStore {
  return {
    ...store,

    async complete(...args: Parameters<TaskStore['complete']>) {
      const outcome = await store.complete(...args);
      attempts.ofLease(args[0].token)?.settle(stale(outcome) ? 'stale' : 'completed');
      return outcome;
    },

    async fail(lease, next) {
      const outcome = await store.fail(lease, next);
      const attempt = attempts.ofLease(lease.token);
      if (attempt) {
        if (next.retryDelayMs !== null) attempt.span.setAttribute(Atf.RETRY_DELAY_MS, next.retryDelayMs);
        attempt.span.setAttribute(Atf.ERROR_MESSAGE, next.error.message.slice(0, 200));
        attempt.settle(stale(outcome) ? 'stale' : next.state === TaskState.DLQ ? 'dlq' : 'retry', next.error.errorClass);
      }
      return outcome;
    },

    async defer(lease, delayMs, reason) {
      const outcome = await store.defer(lease, delayMs, reason);
      const attempt = attempts.ofLease(lease.token);
      if (attempt) {
        attempt.span.addEvent(AtfEvent.DEFERRED, { [Atf.DEFER_REASON]: reason, [Atf.DEFER_DELAY_MS]: delayMs });
        attempt.span.setAttribute(Atf.DEFER_REASON, reason);
        attempt.settle(stale(outcome) ? 'stale' : 'deferred');
      }
      return outcome;
    },

    async release(lease) {
      const released = await store.release(lease);
      attempts.ofLease(lease.token)?.settle(released ? 'handed_back' : 'stale');
      return released;
    },

    async reserveBudget(tenant, reservationId, amountNano, ttlMs) {
      // The runner names a reservation `<task>:<attempt>:<lease token>` (guarded-call.ts reserveBudget).
      const attempt = attempts.ofLease(reservationId.slice(reservationId.lastIndexOf(':') + 1));
      if (!attempt) return store.reserveBudget(tenant, reservationId, amountNano, ttlMs);
      const span = attempt.child('budget hold', { attributes: { [Atf.BUDGET_HOLD_NANO_USD]: amountNano } });
      try {
        const outcome = await store.reserveBudget(tenant, reservationId, amountNano, ttlMs);
        span.setAttribute(Atf.BUDGET_OUTCOME, outcome.status);
        if (outcome.status === 'over') span.setAttribute(Atf.BUDGET_PERIOD, outcome.period);
        return outcome;
      } catch (error) {
        span.setAttribute(General.ERROR_TYPE, error instanceof Error ? error.name : '_OTHER');
        throw error;
      } finally {
        span.end();
      }
    },
  };
}
