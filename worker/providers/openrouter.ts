/**
 * OpenRouter's chat-completions API (OpenAI-compatible), streamed: the answer arrives as
 * server-sent events, which gives live output and progress and lets a failure that happens mid-answer be
 * seen for what it is. One call is one attempt (no hidden retries here); every failure becomes
 * a ProviderError with exactly one error class.
 */
import { ProviderError } from '../../schema/src/errors.ts';
import { ErrorClass } from '../../schema/src/task.ts';
import { classifyHttpStatus, classifyUpstreamError, parseRetryAfter } from './openrouter-errors.ts';
import type { CompletionRequest, CompletionResult, TextProvider } from './provider.ts';
import { createSseParser } from './sse.ts';

export interface OpenRouterOptions {
  apiKey: string;
  /** e.g. https://openrouter.ai/api/v1 (no trailing slash). */
  baseUrl: string;
  model: string;
  /** Deadline of one call (connect to last byte), shorter than the job timeout. */
  timeoutMs: number;
  /** Larger answers are cut off and count as PROVIDER_ERROR. */
  maxResponseBytes: number;
}

interface UpstreamError {
  code?: number | string;
  message?: string;
  metadata?: Record<string, unknown>;
}

/** A whole answer, or one streamed chunk of it (`delta` instead of `message`). */
interface ChatCompletion {
  model?: string;
  choices?: {
    message?: { content?: string | null };
    delta?: { content?: string | null };
    finish_reason?: string | null;
    error?: UpstreamError;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  error?: UpstreamError;
}

/** Reads the body as text, in pieces, under the size cap and the call's signal. */
async function* readBody(response: Response, maxBytes: number, signal: AbortSignal): AsyncGenerator<string> {
  if (!response.body) return;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  try {
    for (;;) {
      signal.throwIfAborted();
      const { value, done } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        throw new ProviderError(ErrorClass.PROVIDER_ERROR, `response exceeded ${maxBytes} bytes`, { httpStatus: response.status });
      }
      yield decoder.decode(value, { stream: true });
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** Collects the answer from a stream or a whole body; throws on an error inside it. */
class AnswerCollector {
  private parts: string[] = [];
  private chars = 0;
  private finished = false;
  model: string | undefined;
  usage: ChatCompletion['usage'];

  constructor(
    private readonly status: number,
    private readonly onText: (delta: string, chars: number) => void,
  ) {}

  /** Takes one chunk (or a whole answer). */
  take(chunk: ChatCompletion): void {
    const upstream = chunk.error ?? chunk.choices?.[0]?.error;
    if (upstream) {
      const message = (upstream.message ?? 'upstream provider error').slice(0, 500);
      throw new ProviderError(classifyUpstreamError(message, upstream.code), message, { httpStatus: this.status });
    }
    const choice = chunk.choices?.[0];
    if (choice?.finish_reason === 'content_filter') {
      throw new ProviderError(ErrorClass.CONTENT_FILTER, 'the provider refused the content', { httpStatus: this.status });
    }
    if (choice?.finish_reason === 'error') {
      throw new ProviderError(ErrorClass.PROVIDER_ERROR, 'the model stopped with an error', { httpStatus: this.status });
    }
    const text = choice?.message?.content ?? choice?.delta?.content;
    if (text) {
      this.parts.push(text);
      this.chars += text.length;
      this.onText(text, this.chars);
    }
    if (choice?.finish_reason) this.finished = true;
    this.model = chunk.model ?? this.model;
    this.usage = chunk.usage ?? this.usage;
  }

  /** The stream's own end marker. */
  done(): void {
    this.finished = true;
  }

  text(streamed: boolean): string {
    // A stream that ends without a finish reason (or [DONE]) was cut off mid-answer.
    if (streamed && !this.finished) {
      throw new ProviderError(ErrorClass.PROVIDER_ERROR, 'the stream ended before the answer was complete', { httpStatus: this.status });
    }
    const text = this.parts.join('').trim();
    if (!text) throw new ProviderError(ErrorClass.PROVIDER_ERROR, 'provider answered with no text', { httpStatus: this.status });
    return text;
  }
}

function parseJson(text: string, status: number): ChatCompletion {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') return parsed as ChatCompletion;
  } catch {
    // reported below
  }
  throw new ProviderError(ErrorClass.PROVIDER_ERROR, 'provider answered with a body that is not JSON', { httpStatus: status });
}

export function createOpenRouterProvider(options: OpenRouterOptions): TextProvider {
  return {
    name: 'openrouter',
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      const deadline = AbortSignal.timeout(options.timeoutMs);
      const signal = AbortSignal.any([request.signal, deadline]);
      // Progress while text arrives: approaches 0.9, at most one report per 5 %.
      let reported = 0.1;
      request.onProgress(reported);
      const onText = (delta: string, chars: number) => {
        request.onText(delta);
        const progress = 0.1 + 0.8 * (1 - Math.exp(-chars / 400));
        if (progress - reported >= 0.05) {
          reported = progress;
          request.onProgress(progress);
        }
      };

      // Set once the provider answered: a break after that is a truncated answer, not a network failure.
      let answering = false;
      try {
        const response = await fetch(`${options.baseUrl}/chat/completions`, {
          method: 'POST',
          signal,
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            'content-type': 'application/json',
            accept: 'text/event-stream, application/json',
            'x-title': 'AsyncTaskFlow',
          },
          body: JSON.stringify({
            model: options.model,
            messages: request.messages,
            stream: true,
          }),
        });
        const status = response.status;
        answering = true;

        if (!response.ok) {
          let text = '';
          for await (const piece of readBody(response, options.maxResponseBytes, signal)) text += piece;
          let message = `HTTP ${status}`;
          try {
            message = (JSON.parse(text) as ChatCompletion).error?.message ?? message;
          } catch {
            // an HTML error page or an empty body: the status says enough
          }
          const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
          throw new ProviderError(classifyHttpStatus(status, message), message.slice(0, 500), { httpStatus: status, retryAfterMs });
        }

        const collector = new AnswerCollector(status, onText);
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
            model: collector.model ?? options.model,
            promptTokens: collector.usage?.prompt_tokens ?? null,
            completionTokens: collector.usage?.completion_tokens ?? null,
            totalTokens: collector.usage?.total_tokens ?? null,
          },
        };
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        // Cancel and shutdown abort with their own reason: pass it on, it is not a failure.
        if (request.signal.aborted) throw request.signal.reason ?? error;
        if (deadline.aborted) {
          throw new ProviderError(ErrorClass.NETWORK_TIMEOUT, `no complete answer within ${options.timeoutMs} ms`, { cause: error });
        }
        if (answering) throw new ProviderError(ErrorClass.PROVIDER_ERROR, 'the answer broke off', { cause: error });
        throw new ProviderError(ErrorClass.NETWORK_TIMEOUT, 'could not reach the provider', { cause: error });
      }
    },
  };
}
