/**
 * OpenRouter's chat-completions API (OpenAI-compatible), streamed: the answer arrives as
 * server-sent events, which gives live output and progress and lets a failure that happens mid-answer be
 * seen for what it is. One call is one attempt (no hidden retries here); every failure becomes
 * a ProviderError with exactly one error class.
 *
 * Every call that was or may have been billed reports its cost once (`onUsage`): from the
 * answer's `usage` or the stream's last chunk; for a call cut off before that, from the
 * generation endpoint (openrouter-usage.ts) within `reconcileTimeoutMs`; else estimated
 * (usage-estimate.ts) and flagged.
 */
import { randomUUID } from 'node:crypto';
import { ProviderError } from '../../schema/src/errors.ts';
import { ErrorClass } from '../../schema/src/task.ts';
import type { CallUsage, ModelPrice } from '../../schema/src/usage.ts';
import { AnswerCollector, parseJson, readBody, type ChatCompletion } from './openrouter-answer.ts';
import { classifyHttpStatus, parseRetryAfter, paymentKind } from './openrouter-errors.ts';
import { callUsageFromResponse, reconcileGeneration } from './openrouter-usage.ts';
import type { CompletionRequest, CompletionResult, TextProvider } from './provider.ts';
import { CALL_ID_HEADER, watchRequestSent } from './request-sent.ts';
import { createSseParser } from './sse.ts';
import { costAt, estimateCallUsage } from './usage-estimate.ts';

export interface OpenRouterOptions {
  apiKey: string;
  /** e.g. https://openrouter.ai/api/v1 (no trailing slash). */
  baseUrl: string;
  model: string;
  /** Deadline of one call (connect to last byte), shorter than the job timeout. */
  timeoutMs: number;
  /** Larger answers are cut off and count as PROVIDER_ERROR. */
  maxResponseBytes: number;
  /**
   * How long a call cut off before its usage arrived may spend asking the generation endpoint
   * what it cost, before estimating (a cancel waits this long at most). Default 3000.
   */
  reconcileTimeoutMs?: number;
  /** Model prices (a price book's `priceOf`), for estimates; without them an estimate costs 0. */
  priceOf?: (model: string) => Promise<ModelPrice | null>;
}

export const DEFAULT_RECONCILE_TIMEOUT_MS = 3000;

/** What is known of one call, for its usage: filled in as the call goes. */
interface CallState {
  /** The request may have reached the provider, and no HTTP error status said it ran nothing. */
  billable: boolean;
  /** The provider answered (any status): a break after that is a truncated answer. */
  answered: boolean;
  generationId: string | null;
  collector: AnswerCollector | null;
  /** Our own id of the call (onCallStart's, or one of its own), sent with the request. */
  callId: string;
  /** The models it asks for, in order (the request's, or the provider's own). */
  models: readonly string[];
}

export function createOpenRouterProvider(options: OpenRouterOptions): TextProvider {
  const reconcileTimeoutMs = options.reconcileTimeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS;

  /** The model's price, or null: unknown, failed, or slower than `waitMs` (a cached price wins any wait). */
  const priceWithin = async (model: string, waitMs: number): Promise<ModelPrice | null> => {
    if (!options.priceOf) return null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), Math.max(0, waitMs));
    });
    try {
      return await Promise.race([options.priceOf(model).catch(() => null), late]);
    } finally {
      clearTimeout(timer);
    }
  };

  /**
   * The call's usage: from the answer, else from the generation endpoint, else estimated; all
   * within `reconcileTimeoutMs`.
   */
  const settleUsage = async (request: CompletionRequest, call: CallState): Promise<CallUsage> => {
    const startedAt = Date.now();
    const collector = call.collector;
    const model = collector?.model ?? call.models[0] ?? options.model;
    const generationId = call.generationId ?? collector?.id ?? null;
    const reported = callUsageFromResponse(collector?.usage, model, generationId);
    if (reported) return reported;
    if (generationId) {
      const reconciled = await reconcileGeneration(generationId, model, { baseUrl: options.baseUrl, apiKey: options.apiKey, timeoutMs: reconcileTimeoutMs });
      if (reconciled) return reconciled;
    }
    const price = await priceWithin(model, reconcileTimeoutMs - (Date.now() - startedAt));
    const estimate = estimateCallUsage({ model, generationId, messages: request.messages, receivedText: collector?.received() ?? '', price });
    // Token counts without a cost (an older or partial `usage`) beat the estimate's.
    const usage = collector?.usage;
    if (typeof usage?.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number') {
      estimate.promptTokens = usage.prompt_tokens;
      estimate.completionTokens = usage.completion_tokens;
      estimate.costUsd = costAt(price, usage.prompt_tokens, usage.completion_tokens);
    }
    return estimate;
  };

  /** One HTTP call: sends the request, reads the answer, records what it learns in `call`. */
  const attempt = async (request: CompletionRequest, signal: AbortSignal, call: CallState, onText: (delta: string, chars: number) => void): Promise<CompletionResult> => {
    call.billable = true;
    const response = await fetch(`${options.baseUrl}/chat/completions`, {
      method: 'POST',
      signal,
      headers: {
        authorization: `Bearer ${options.apiKey}`,
        'content-type': 'application/json',
        accept: 'text/event-stream, application/json',
        'x-title': 'AsyncTaskFlow',
        // Our id of the call (its write-ahead record's): lets a bill be matched to the ledger.
        [CALL_ID_HEADER]: call.callId,
      },
      body: JSON.stringify({
        model: call.models[0],
        // OpenRouter's fallback list: an error before any output moves on to the next model on its
        // side, in this one call (and one bill).
        ...(call.models.length > 1 ? { models: call.models } : {}),
        messages: request.messages,
        stream: true,
        ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
        // Usage accounting (cost, cached and reasoning tokens). OpenRouter now always sends it and
        // calls this flag deprecated, without effect; it costs nothing and keeps older deployments right.
        usage: { include: true },
      }),
    });
    const status = response.status;
    call.answered = true;
    call.generationId = response.headers.get('x-generation-id');

    if (!response.ok) {
      // An error status: OpenRouter ran nothing and charges nothing.
      call.billable = false;
      let text = '';
      for await (const piece of readBody(response, options.maxResponseBytes, signal)) text += piece;
      let message = `HTTP ${status}`;
      let metadata: unknown;
      try {
        const error = (JSON.parse(text) as ChatCompletion & { error?: { metadata?: unknown } }).error;
        message = error?.message ?? message;
        metadata = error?.metadata;
      } catch {
        // an HTML error page or an empty body: the status says enough
      }
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      // A 402 for the in-flight budget is a hold for everyone, not this task's failure.
      const providerHold = status === 402 && paymentKind(metadata, message) === 'in_flight' && retryAfterMs !== undefined;
      throw new ProviderError(classifyHttpStatus(status, message, metadata), message.slice(0, 500), { httpStatus: status, retryAfterMs, providerHold });
    }

    let announced = false;
    const announce = (id: string | null | undefined) => {
      if (announced || !id) return;
      announced = true;
      request.onGeneration?.(id);
    };
    announce(call.generationId);
    // Before any text: a chunk's id is taken before its text is handed on.
    const collector = new AnswerCollector(status, onText, announce);
    call.collector = collector;
    const streamed = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    if (streamed) {
      const parser = createSseParser();
      const take = (data: string) => (data === '[DONE]' ? collector.done() : collector.take(parseJson(data, status)));
      for await (const piece of readBody(response, options.maxResponseBytes, signal)) parser.push(piece).forEach(take);
      parser.end().forEach(take);
    } else {
      // Some errors (and non-streaming providers) answer with one JSON body.
      let text = '';
      for await (const piece of readBody(response, options.maxResponseBytes, signal)) text += piece;
      collector.take(parseJson(text, status));
    }
    const text = collector.text(streamed);
    request.onProgress(0.9);
    return {
      text,
      usage: {
        model: collector.model ?? call.models[0] ?? options.model,
        promptTokens: collector.usage?.prompt_tokens ?? null,
        completionTokens: collector.usage?.completion_tokens ?? null,
        totalTokens: collector.usage?.total_tokens ?? null,
      },
      finishReason: collector.finishReason ?? null,
    };
  };

  return {
    name: 'openrouter',
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      // Not begun: nothing sent, nothing to report.
      request.signal.throwIfAborted();
      // Written ahead as under way before any byte leaves; a call that cannot be does not go.
      const callId = (await request.onCallStart?.()) ?? randomUUID();
      const sending = watchRequestSent(callId);
      const deadline = AbortSignal.timeout(options.timeoutMs);
      const { signal, dispose } = abortAfterBufferedAnswer(AbortSignal.any([request.signal, deadline]), () => call.answered);
      // Progress while text arrives: approaches 0.9, at most one report per 5 %.
      let reported = 0.1;
      request.onProgress(reported);
      let modelNamed = false;
      const onText = (delta: string, chars: number) => {
        // The answering model, before its first text (a chunk's model is read before its text).
        if (!modelNamed && call.collector?.model) {
          modelNamed = true;
          request.onModel?.(call.collector.model);
        }
        request.onText(delta);
        const progress = 0.1 + 0.8 * (1 - Math.exp(-chars / 400));
        if (progress - reported >= 0.05) {
          reported = progress;
          request.onProgress(progress);
        }
      };

      const models = request.models?.length ? request.models : [options.model];
      const call: CallState = { billable: false, answered: false, generationId: null, collector: null, callId, models };
      let outcome: { ok: true; result: CompletionResult } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, result: await attempt(request, signal, call, onText) };
      } catch (error) {
        outcome = { ok: false, error: classifyFailure(error, request.signal, deadline, call, options.timeoutMs) };
        // No answer at all. Never sent (refused, unknown host, aborted while connecting): nothing
        // billed. Sent: maybe billed. OpenRouter starts a stream before the model runs, but a
        // hang-up can cross the provider's start on the wire, and then the provider bills a call
        // whose answer never arrived; such a call is recorded at its estimate, flagged.
        if (!call.answered) call.billable = sending.sent();
      } finally {
        dispose();
        sending.dispose();
      }
      if (request.onUsage && call.billable) {
        const usage = await settleUsage(request, call);
        request.onUsage(usage);
        // An answer without usage: the task's usage takes the figures found for it.
        if (outcome.ok && outcome.result.usage?.promptTokens === null) {
          const { model, promptTokens, completionTokens } = usage;
          outcome.result.usage = { model, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
        }
      }
      if (!outcome.ok) throw outcome.error;
      return outcome.result;
    },
  };
}

/**
 * `source`, passed on to the request: at once once the answer began, else one turn of the event
 * loop later. A cancel, a lost lease or the deadline may be handled before an answer that had
 * already arrived, unread: a process frozen (SIGSTOP) or far behind finds both waiting when it
 * runs again, and may handle the abort first. Cut off at once, the call would look unanswered,
 * so unbilled, while the provider billed it; one turn later the waiting answer has been read
 * (the poll phase comes before setImmediate's) and the call is reconciled like any cut-off one.
 */
function abortAfterBufferedAnswer(source: AbortSignal, answered: () => boolean): { signal: AbortSignal; dispose(): void } {
  const wire = new AbortController();
  let later: NodeJS.Immediate | undefined;
  const cut = () => {
    if (answered()) wire.abort(source.reason);
    else later = setImmediate(() => wire.abort(source.reason));
  };
  if (source.aborted) wire.abort(source.reason);
  else source.addEventListener('abort', cut, { once: true });
  return {
    signal: wire.signal,
    dispose: () => {
      source.removeEventListener('abort', cut);
      if (later) clearImmediate(later);
    },
  };
}

/** The error a failed call ends with: a ProviderError of one class, or the caller's own abort reason. */
function classifyFailure(error: unknown, callerSignal: AbortSignal, deadline: AbortSignal, call: CallState, timeoutMs: number): unknown {
  if (error instanceof ProviderError) return error;
  // Cancel and shutdown abort with their own reason: pass it on, it is not a failure.
  if (callerSignal.aborted) return callerSignal.reason ?? error;
  if (deadline.aborted) return new ProviderError(ErrorClass.NETWORK_TIMEOUT, `no complete answer within ${timeoutMs} ms`, { cause: error });
  // Once the provider answered, a break is a truncated answer, not a network failure.
  if (call.answered) return new ProviderError(ErrorClass.PROVIDER_ERROR, 'the answer broke off', { cause: error });
  return new ProviderError(ErrorClass.NETWORK_TIMEOUT, 'could not reach the provider', { cause: error });
}
