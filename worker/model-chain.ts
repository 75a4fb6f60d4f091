/**
 * The model chain as one attempt sees it, and where a failed attempt sends the task next: pure
 * decisions, no I/O (the runner asks the breakers and writes the outcome).
 *
 * Rules (docs/operations.md, "Model chains"):
 * - The attempt's models are the chain from the task's place in it, then the models before that
 *   place; models whose breaker is open are skipped. They go to OpenRouter as its `models`
 *   parameter, so an error before any output falls back on the server side, in one call.
 * - A stream that breaks after output began ends the attempt: the next one starts on the model
 *   after the one that answered, with no retry counted. After the last model (or once the
 *   attempt had wrapped round to models before its place) the whole chain has failed once: the
 *   task starts over from the chain's first model, and that switch counts a retry.
 * - A context-length refusal goes to the next model at once (no retry, no delay); after the
 *   last model it is the permanent failure it is.
 * - A content-filter refusal goes at once to OPENROUTER_CONTENT_FILTER_FALLBACK when that names
 *   a model (not when the refusing model is that one).
 */
import { isProviderError } from '../schema/src/errors.ts';
import { ModelSwitchReason, type TaskChain } from '../schema/src/model-chain.ts';
import { ErrorClass } from '../schema/src/task.ts';

/** What OpenRouter (and its upstreams) say when a prompt is longer than the model's context. */
const CONTEXT_LENGTH = /context[ _-]?length|context window|maximum context|too many tokens/i;

/** Whether a provider error is a context-length refusal. */
export function isContextLengthError(error: unknown): boolean {
  return isProviderError(error) && error.errorClass === ErrorClass.PERMANENT && (error.httpStatus === 400 || error.httpStatus === 413) && CONTEXT_LENGTH.test(error.message);
}

/** The chain one attempt runs. */
export interface AttemptChain {
  /** The task's chain: its own, or the configured one. */
  chain: readonly string[];
  /** Where the attempt starts in it (chain.length: the content-filter fallback). */
  start: number;
  /** The models to try, in order, before the breakers are asked: the chain from `start`, then the models before it. */
  candidates: readonly string[];
  /** Why the task came to `start` (the last attempt's switch), or null. */
  switchReason: ModelSwitchReason | null;
}

/** The answering model's place in the attempt's chain, or null when it is not in it. */
export function chainIndexOf(attempt: AttemptChain, model: string): number | null {
  const index = attempt.chain.indexOf(model);
  if (index !== -1) return index;
  return attempt.start >= attempt.chain.length && attempt.candidates[0] === model ? attempt.chain.length : null;
}

/** The attempt's chain for a task at `position`, with `configured` (OPENROUTER_MODELS) and the content-filter fallback. */
export function attemptChain(position: TaskChain, configured: readonly string[], contentFilterFallback: string | null): AttemptChain {
  const chain = position.models ?? configured;
  if (position.index >= chain.length) {
    // The content-filter fallback's slot; without one configured (any more), the chain from its start.
    if (contentFilterFallback) return { chain, start: chain.length, candidates: [contentFilterFallback], switchReason: position.switchReason };
    return { chain, start: 0, candidates: chain, switchReason: null };
  }
  const start = position.index;
  return { chain, start, candidates: [...chain.slice(start), ...chain.slice(0, start)], switchReason: position.switchReason };
}

/** Where a failed attempt sends the task: nowhere new (an ordinary failure), or on in its chain. */
export type NextStep =
  | { kind: 'fail' }
  | {
      kind: 'switch';
      reason: ModelSwitchReason;
      /** Where the next attempt starts. */
      index: number;
      /** The whole chain has failed once: the switch counts a retry (and waits its delay). */
      countsRetry: boolean;
    };

export interface FailedAttempt {
  error: unknown;
  attempt: AttemptChain;
  /** The model that answered (the response's `model`); null when no answer came. */
  answeredModel: string | null;
  /** The first model the call was sent to (its primary). */
  sentTo: string;
  /** Output had begun when it failed. */
  outputBegan: boolean;
}

/** Where a failed attempt sends the task next (see the rules in the header). */
export function nextStep(failed: FailedAttempt, contentFilterFallback: string | null): NextStep {
  const { error, attempt } = failed;
  const { chain, start } = attempt;
  if (!isProviderError(error)) return { kind: 'fail' };
  const onFallback = start >= chain.length;
  if (error.errorClass === ErrorClass.CONTENT_FILTER) {
    if (!contentFilterFallback || onFallback || failed.answeredModel === contentFilterFallback || failed.sentTo === contentFilterFallback) return { kind: 'fail' };
    return { kind: 'switch', reason: ModelSwitchReason.CONTENT_FILTER, index: chain.length, countsRetry: false };
  }
  if (onFallback) return { kind: 'fail' };
  if (isContextLengthError(error)) {
    const refused = chain.indexOf(failed.sentTo);
    // Only forward: a refusal by a model before the attempt's place means the chain is done.
    if (refused < start || refused + 1 >= chain.length) return { kind: 'fail' };
    return { kind: 'switch', reason: ModelSwitchReason.CONTEXT_LENGTH, index: refused + 1, countsRetry: false };
  }
  if (!failed.outputBegan) return { kind: 'fail' };
  // An answer may name the model otherwise than the chain does (a dated variant): then the one sent to.
  const answered = failed.answeredModel === null ? -1 : chain.indexOf(failed.answeredModel);
  const broke = answered === -1 ? chain.indexOf(failed.sentTo) : answered;
  if (broke >= start && broke + 1 < chain.length) return { kind: 'switch', reason: ModelSwitchReason.STREAM_BROKEN, index: broke + 1, countsRetry: false };
  // The whole chain has failed once (the last model broke, or the attempt had wrapped round): a
  // retry from the first model. From the first already, that is the ordinary failure.
  if (start === 0) return { kind: 'fail' };
  return { kind: 'switch', reason: ModelSwitchReason.STREAM_BROKEN, index: 0, countsRetry: true };
}
