/**
 * An attempt's provider call behind its guards: the worker's own breaker, its models' shared
 * breakers, the shared rate limit (with the call's write-ahead) and the tenant's budgets. A
 * guard that refuses defers the task (no call, no error, no retry); a call that goes runs the
 * task's handler and reports how it went to the call stats and the model breakers. The model
 * breaker's call is acquired and released here, so a probe is never left held.
 */
import { isProviderError } from '../schema/src/errors.ts';
import { ModelCallOutcome } from '../schema/src/model-breakers.ts';
import { periodOf } from '../schema/src/scripts/budgets.ts';
import { ErrorClass } from '../schema/src/task.ts';
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import type { Attempt } from './attempt.ts';
import type { Settlement } from './attempt-settlement.ts';
import type { ModelCall } from './model-breakers.ts';
import type { ModelRouting } from './model-routing.ts';
import { modelOutcomeOf } from './resilience.ts';
import type { RunnerOptions } from './runner-options.ts';
import type { TaskStore } from './task-store.ts';
import type { TaskOutput } from './tasks/task-handler.ts';

export type GuardedCallOptions = Pick<RunnerOptions, 'circuit' | 'modelBreakers' | 'rateLimiter' | 'budget' | 'handlers' | 'onProviderCall'>;

export interface GuardedCallDeps {
  store: TaskStore;
  routing: Pick<ModelRouting, 'chainOf' | 'acquireFirst' | 'recordModels'>;
  settlement: Pick<Settlement, 'defer' | 'deferWhileOpen' | 'deferWhileModelsOpen'>;
}

export function createGuardedCall(options: GuardedCallOptions, deps: GuardedCallDeps) {
  const { store, routing, settlement } = deps;

  /**
   * Calls the task's handler behind the breakers (the worker's own, its model's shared one) and
   * the shared rate limit. Null when the task was deferred instead (a breaker open, no rate-limit
   * token, a budget spent): no call, no error, no retry.
   */
  async function execute(attempt: Attempt): Promise<TaskOutput | null> {
    const { lease, task, log } = attempt;
    const breakers = options.modelBreakers ?? null;
    const chain = routing.chainOf(task);
    // An open breaker refuses before a shared rate-limit token is spent on a call that will not happen.
    if (options.circuit.refusesCalls()) {
      await settlement.deferWhileOpen(lease, task.attempt, log);
      return null;
    }
    // The models of the chain whose breaker is not open, from the task's place in it.
    const available = chain ? (breakers ? breakers.available(chain.candidates) : chain.candidates) : [];
    if (chain && breakers && available.length === 0) {
      await settlement.deferWhileModelsOpen(breakers, chain.candidates, lease, task.attempt, log);
      return null;
    }
    if (chain) attempt.useModels(chain, available);
    // A remote provider's call is written ahead as under way by the token's own script (no extra
    // round trip); one that then does not go (no token, a spent budget, a breaker that just
    // opened, a failed script whose write may have landed) is dropped when the attempt settles.
    // A limiter-less handler calls no billed provider.
    const writeAhead = options.rateLimiter ? attempt.prepareCall() : undefined;
    if (writeAhead) attempt.markWrittenAhead();
    const permit = options.rateLimiter ? await options.rateLimiter.acquire(attempt.signal, writeAhead) : ({ granted: true } as const);
    if (!permit.granted) {
      await settlement.defer(lease, task.attempt, permit.waitMs + 10, TransitionReason.RATE_LIMITED, log);
      return null;
    }
    if (!(await reserveBudget(attempt))) return null;
    // Last before the call: at a breaker's probe time this takes the one probe, which nothing may waste.
    const modelCall = chain && breakers ? await routing.acquireFirst(breakers, attempt, chain, available) : null;
    if (chain && breakers && !modelCall) {
      await settlement.deferWhileModelsOpen(breakers, chain.candidates, lease, task.attempt, log);
      return null;
    }
    try {
      return await options.circuit.execute(() => callHandler(attempt, modelCall));
    } finally {
      // The worker's own breaker refused it after all: no call was made (a probe's lease ends now).
      modelCall?.record(ModelCallOutcome.OTHER);
    }
  }

  /** Runs the task's handler: its outcome goes to the call stats and the model's breaker. */
  async function callHandler(attempt: Attempt, modelCall: ModelCall | null): Promise<TaskOutput> {
    const { lease, task, log } = attempt;
    const startedAt = Date.now();
    const report = (status: string) => options.onProviderCall?.({ status, durationMs: Date.now() - startedAt });
    try {
      const output = await options.handlers[task.type].run({
        taskId: lease.taskId,
        content: task.content,
        attempt: task.attempt,
        signal: attempt.signal,
        logger: log,
        onProgress: attempt.onProgress,
        onText: attempt.onText,
        onUsage: attempt.onUsage,
        onGeneration: attempt.onGeneration,
        onCallStart: attempt.onCallStart,
        onModel: attempt.onModel,
        ...(attempt.chainInUse ? { models: attempt.chainInUse.sent } : {}),
      });
      report('ok');
      routing.recordModels(attempt, modelCall, ModelCallOutcome.OK);
      return output;
    } catch (error) {
      report(attempt.signal.aborted ? 'aborted' : isProviderError(error) ? String(error.httpStatus ?? error.errorClass) : ErrorClass.INTERNAL);
      routing.recordModels(attempt, modelCall, modelOutcomeOf(error, attempt.signal.aborted));
      throw error;
    }
  }

  /**
   * Holds the call's estimated cost against the tenant's budgets. False when a budget is spent:
   * the task then waits (deferred, reason BUDGET, no retry counted) until the limit rises or the
   * period ends; it looks again every `recheckMs`.
   */
  async function reserveBudget(attempt: Attempt): Promise<boolean> {
    const budget = options.budget;
    if (!budget) return true;
    const { lease, task, log } = attempt;
    // A tenant without a budget holds nothing: no script call.
    if (budget.applies && !(await budget.applies(lease.tenant))) return true;
    const id = attempt.plannedReservation;
    const outcome = await store.reserveBudget(lease.tenant, id, await budget.estimateNano(task, attempt.chainInUse?.sent ?? []), budget.holdMs);
    if (outcome.status === 'held') attempt.holdReservation(id);
    if (outcome.status !== 'over') return true;
    const untilNextPeriod = periodOf(outcome.period, Date.now()).end - Date.now();
    await settlement.defer(lease, task.attempt, Math.max(10, Math.min(budget.recheckMs, untilNextPeriod)), TransitionReason.BUDGET, log);
    return false;
  }

  return { execute };
}
