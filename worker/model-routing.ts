/**
 * An attempt's models, with I/O: the chain it runs, the model breakers asked for its primary and
 * told how the call went, and the task's move on in its chain written after a failure. The
 * decisions themselves are worker/model-chain.ts's (pure).
 */
import { CircuitState } from '../schema/src/circuit.ts';
import { decodeTaskChain } from '../schema/src/model-chain.ts';
import { ModelCallOutcome } from '../schema/src/model-breakers.ts';
import type { Attempt } from './attempt.ts';
import { failureRecord, retryDecision, toFailure } from './failure.ts';
import type { ModelBreakers, ModelCall } from './model-breakers.ts';
import { attemptChain, nextStep, type AttemptChain } from './model-chain.ts';
import type { RunnerOptions, RunnerWrites } from './runner-options.ts';
import type { ClaimedTask } from './task-store.ts';

export type ModelRoutingOptions = Pick<
  RunnerOptions,
  'model' | 'models' | 'contentFilterFallback' | 'chainStore' | 'modelBreakers' | 'retryDelayScale' | 'retryPolicy'
>;

export type ModelRouting = ReturnType<typeof createModelRouting>;

export function createModelRouting(options: ModelRoutingOptions, writes: Pick<RunnerWrites, 'persistently' | 'queueRetry'>) {
  const { persistently, queueRetry } = writes;

  /** The chain the task's attempt runs, or null for a provider without models. */
  function chainOf(task: ClaimedTask): AttemptChain | null {
    const configured = options.models ?? (options.model ? [options.model] : null);
    if (!configured || configured.length === 0) return null;
    return attemptChain(decodeTaskChain(task.chain), configured, options.contentFilterFallback ?? null);
  }

  /**
   * The call's primary: the first available model whose breaker lets the call go (one due a
   * probe goes only as the probe this worker won). The rest of the available models follow it
   * as OpenRouter's fallbacks, but only closed ones: a model due a probe gets exactly one call.
   */
  async function acquireFirst(breakers: ModelBreakers, attempt: Attempt, chain: AttemptChain, available: readonly string[]): Promise<ModelCall | null> {
    for (const [i, model] of available.entries()) {
      const call = await breakers.acquire(model);
      if (!call) continue;
      const fallbacks = available.slice(i + 1).filter((next) => breakers.snapshot(next).state === CircuitState.CLOSED);
      attempt.useModels(chain, [model, ...fallbacks]);
      return call;
    }
    return null;
  }

  /**
   * Tells the breakers how the call went: the primary's outcome, and when OpenRouter answered
   * with a fallback of the list, the primary failed before output (that is when it falls back)
   * and the fallback's outcome is its own.
   */
  function recordModels(attempt: Attempt, modelCall: ModelCall | null, outcome: ModelCallOutcome): void {
    if (!modelCall) return;
    const sent = attempt.chainInUse?.sent ?? [];
    const answered = attempt.answeredModel;
    if (answered !== null && answered !== modelCall.model && sent.includes(answered)) {
      modelCall.record(ModelCallOutcome.FAILED);
      options.modelBreakers?.note(answered, outcome);
      return;
    }
    modelCall.record(outcome);
  }

  /**
   * Moves the task on in its model chain when the failure calls for it (worker/model-chain.ts
   * `nextStep`): at once and with no retry counted, or, once the whole chain has failed, after
   * its retry delay with one counted. False when it is an ordinary failure (recordFailure's).
   */
  async function switchModel(attempt: Attempt, error: unknown): Promise<boolean> {
    const { lease, task, log } = attempt;
    const used = attempt.chainInUse;
    if (!used || !options.chainStore || !used.sent[0]) return false;
    const fallback = options.contentFilterFallback ?? null;
    const step = nextStep({ error, attempt: used.chain, answeredModel: attempt.answeredModel, sentTo: used.sent[0], outputBegan: attempt.outputBegan }, fallback);
    if (step.kind === 'fail') return false;
    const failure = toFailure(error);
    let retryDelay = 0;
    if (step.countsRetry) {
      const retry = retryDecision(failure, task, options);
      // Out of retries: the ordinary failure sends it to the dead letter queue.
      if (!retry.canRetry) return false;
      retryDelay = retry.delayMs ?? 0;
    }
    const position = decodeTaskChain(task.chain);
    const chainStore = options.chainStore;
    const outcome = await persistently(() => chainStore.switchModel(lease, {
      error: failureRecord(failure, task.attempt),
      retryDelayMs: retryDelay,
      countsRetry: step.countsRetry,
      chain: { models: position.models, index: step.index, switchReason: step.reason },
      reason: failure.errorClass,
    }), log);
    if (outcome.status === 'stale' || outcome.nextAttemptAt === null) {
      log.warn({ state: outcome.status === 'stale' ? outcome.state : null }, 'stale lease: model switch not recorded');
      return true;
    }
    await queueRetry(lease, task.attempt, outcome.nextAttemptAt, log);
    log.info({ reason: step.reason, index: step.index, countsRetry: step.countsRetry, answeredModel: attempt.answeredModel }, 'task moves on in its model chain');
    return true;
  }

  return { chainOf, acquireFirst, recordModels, switchModel };
}
