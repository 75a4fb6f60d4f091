/**
 * One `chat {model}` span per provider call, inside the running attempt, with the GenAI semantic
 * conventions v1.41 (or the GenAI repository's latest, with OTEL_SEMCONV_STABILITY_OPT_IN=
 * gen_ai_latest_experimental; the differences are listed where they are made). The call's cost
 * and generation id go in `atf.*`. Live output is one span event for the first chunk and a count
 * of chunks, never a span per chunk. Prompt and answer text only with OTEL_GENAI_CAPTURE_CONTENT.
 *
 * A wrapper, not a change to the providers: it sees the call through the request's callbacks
 * (onText, onUsage, onGeneration) and its result, and finds its attempt by the request's signal.
 */
import { SpanKind, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { Atf, AtfEvent, General, GenAi } from '../../common/semconv.ts';
import type { TracingConfig } from '../../common/tracing-config.ts';
import { isProviderError } from '../../schema/src/errors.ts';
import { toNanoUsd, type CallUsage } from '../../schema/src/usage.ts';
import type { ChatMessage, CompletionRequest, CompletionResult, TextProvider } from '../providers/provider.ts';
import type { AttemptRegistry, TracedAttempt } from './attempt-trace.ts';

export interface ChatTraceOptions {
  config: Pick<TracingConfig, 'captureContent' | 'genAiLatest'>;
  /** The model asked for (gen_ai.request.model). */
  model: string;
  /** gen_ai.provider.name: `openrouter` for the remote provider. */
  providerName: string;
  /** The provider's base URL (server.address, server.port); null for one that runs in-process. */
  baseUrl: string | null;
  /** Where the running attempts are: a call is the child of the attempt whose signal it carries. */
  attempts: AttemptRegistry;
}

/** The low-cardinality class a call failed with (error.type): its error class, or what aborted it. */
export function errorTypeOf(error: unknown): string {
  if (isProviderError(error)) return error.errorClass;
  if (error instanceof Error && error.name && error.name !== 'Error') return error.name;
  return '_OTHER';
}

function serverOf(baseUrl: string | null): Attributes {
  if (!baseUrl) return {};
  const url = new URL(baseUrl);
  return { [General.SERVER_ADDRESS]: url.hostname, [General.SERVER_PORT]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
}

/** The input messages as the GenAI JSON schema has them (recorded on spans as a JSON string). */
function contentAttributes(messages: readonly ChatMessage[]): Attributes {
  const system = messages.filter((message) => message.role === 'system');
  const rest = messages.filter((message) => message.role !== 'system');
  return {
    ...(system.length > 0 ? { [GenAi.SYSTEM_INSTRUCTIONS]: JSON.stringify(system.map((message) => ({ type: 'text', content: message.content }))) } : {}),
    [GenAi.INPUT_MESSAGES]: JSON.stringify(rest.map((message) => ({ role: message.role, parts: [{ type: 'text', content: message.content }] }))),
  };
}

function usageAttributes(usage: CallUsage, latest: boolean): Attributes {
  return {
    [GenAi.RESPONSE_MODEL]: usage.model,
    [GenAi.USAGE_INPUT_TOKENS]: usage.promptTokens,
    [GenAi.USAGE_OUTPUT_TOKENS]: usage.completionTokens,
    ...(usage.cachedTokens > 0 ? { [GenAi.USAGE_CACHE_READ_INPUT_TOKENS]: usage.cachedTokens } : {}),
    ...(usage.reasoningTokens > 0 ? { [GenAi.USAGE_REASONING_OUTPUT_TOKENS]: usage.reasoningTokens } : {}),
    // Latest: the per-modality counts (ours are all text).
    ...(latest ? { [GenAi.USAGE_TEXT_INPUT_TOKENS]: usage.promptTokens, [GenAi.USAGE_TEXT_OUTPUT_TOKENS]: usage.completionTokens } : {}),
    ...(usage.generationId ? { [GenAi.RESPONSE_ID]: usage.generationId, [Atf.GENERATION_ID]: usage.generationId } : {}),
    // The ledger's own unit and rounding (task-store.ts recordUsage): the two agree to the nano-dollar.
    [Atf.COST_NANO_USD]: toNanoUsd(usage.costUsd),
    [Atf.COST_USD]: usage.costUsd,
    [Atf.USAGE_ESTIMATED]: usage.estimated,
  };
}

/** `provider` with a span per call; a call outside a traced attempt goes through untouched. */
export function traceProvider(provider: TextProvider, options: ChatTraceOptions): TextProvider {
  const { captureContent, genAiLatest } = options.config;
  const baseAttributes: Attributes = {
    [GenAi.OPERATION_NAME]: 'chat',
    [GenAi.PROVIDER_NAME]: options.providerName,
    [GenAi.REQUEST_MODEL]: options.model,
    // The remote provider is always called streaming; the in-process one is not a stream.
    ...(options.baseUrl ? { [GenAi.REQUEST_STREAM]: true } : {}),
    ...serverOf(options.baseUrl),
  };

  async function traced(attempt: TracedAttempt, request: CompletionRequest): Promise<CompletionResult> {
    const span: Span = attempt.child(`chat ${options.model}`, {
      kind: options.baseUrl ? SpanKind.CLIENT : SpanKind.INTERNAL,
      attributes: {
        ...baseAttributes,
        ...(request.maxTokens !== undefined ? { [GenAi.REQUEST_MAX_TOKENS]: request.maxTokens } : {}),
        ...(captureContent ? contentAttributes(request.messages) : {}),
      },
    });
    const startedAt = performance.now();
    let chunks = 0;
    const observed: CompletionRequest = {
      ...request,
      onText(delta) {
        chunks += 1;
        if (chunks === 1) {
          span.addEvent(AtfEvent.FIRST_CHUNK);
          span.setAttribute(GenAi.RESPONSE_TIME_TO_FIRST_CHUNK, (performance.now() - startedAt) / 1000);
        }
        request.onText(delta);
      },
      onGeneration(generationId) {
        span.setAttributes({ [GenAi.RESPONSE_ID]: generationId, [Atf.GENERATION_ID]: generationId });
        request.onGeneration?.(generationId);
      },
      // Only when the caller wants usage: asking for it makes a provider settle it (it can wait for it).
      ...(request.onUsage
        ? {
            onUsage(usage: CallUsage) {
              span.setAttributes(usageAttributes(usage, genAiLatest));
              request.onUsage!(usage);
            },
          }
        : {}),
    };
    try {
      const result = await provider.complete(observed);
      const finishReason = result.finishReason ?? null;
      if (finishReason) span.setAttribute(GenAi.RESPONSE_FINISH_REASONS, [finishReason]);
      if (result.usage?.model) span.setAttribute(GenAi.RESPONSE_MODEL, result.usage.model);
      if (captureContent) {
        // v1.41 has the finish reason in each output message; the latest deprecates it there.
        const message = { role: 'assistant', parts: [{ type: 'text', content: result.text }], ...(genAiLatest ? {} : { finish_reason: finishReason ?? 'stop' }) };
        span.setAttribute(GenAi.OUTPUT_MESSAGES, JSON.stringify([message]));
      }
      return result;
    } catch (error) {
      span.setAttribute(General.ERROR_TYPE, errorTypeOf(error));
      // Latest: a generation that ended abnormally reports `error` as its finish reason.
      if (genAiLatest) span.setAttribute(GenAi.RESPONSE_FINISH_REASONS, ['error']);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message.slice(0, 200) : undefined });
      throw error;
    } finally {
      span.setAttribute(Atf.OUTPUT_CHUNKS, chunks);
      span.end();
    }
  }

  return {
    name: provider.name,
    complete(request) {
      const attempt = options.attempts.ofSignal(request.signal);
      return attempt ? traced(attempt, request) : provider.complete(request);
    },
  };
}
