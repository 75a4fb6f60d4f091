/**
 * OpenRouter's chat-completions API (OpenAI-compatible). One call is one attempt: no
 * hidden retries here; every failure becomes a ProviderError with one error class.
 */
import { ProviderError } from '../../schema/src/errors.ts';
import { ErrorClass } from '../../schema/src/task.ts';
import { SUMMARY_SYSTEM_PROMPT, type SummaryProvider, type SummaryRequest, type SummaryResult } from './provider.ts';

export interface OpenRouterOptions {
  apiKey: string;
  /** e.g. https://openrouter.ai/api/v1 (no trailing slash). */
  baseUrl: string;
  model: string;
  /** Deadline of one call, shorter than the job timeout. */
  timeoutMs: number;
  /** Larger answers are cut off and count as PROVIDER_ERROR. */
  maxResponseBytes: number;
}

interface ChatCompletion {
  model?: string;
  choices?: { message?: { content?: string | null }; finish_reason?: string | null; error?: { message?: string } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  error?: { code?: number | string; message?: string; metadata?: Record<string, unknown> };
}

/** Maps an HTTP status (and the provider's message) to an error class. */
export function classifyHttpStatus(status: number, message: string): ErrorClass {
  if (status === 402) return ErrorClass.INSUFFICIENT_CREDITS;
  if (status === 429) return ErrorClass.RATE_LIMIT;
  if (status === 503) return isWarmupMessage(message) ? ErrorClass.MODEL_WARMUP : ErrorClass.SERVICE_UNAVAILABLE;
  if (status === 408 || status === 500 || status === 502 || status === 504) return ErrorClass.NETWORK_TIMEOUT;
  if (status === 403 && isModerationMessage(message)) return ErrorClass.CONTENT_FILTER;
  if (status >= 400 && status < 500) return ErrorClass.PERMANENT;
  return ErrorClass.NETWORK_TIMEOUT;
}

const isWarmupMessage = (message: string) => /warm(ing)?[ -]?up|model is (currently )?loading|cold start/i.test(message);
const isModerationMessage = (message: string) => /moderat|flagged|content (policy|filter)/i.test(message);

async function readCapped(response: Response, maxBytes: number, signal: AbortSignal): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const { value, done } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        throw new ProviderError(ErrorClass.PROVIDER_ERROR, `response exceeded ${maxBytes} bytes`, {
          httpStatus: response.status,
        });
      }
      chunks.push(value);
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function createOpenRouterProvider(options: OpenRouterOptions): SummaryProvider {
  return {
    name: 'openrouter',
    async summarize(request: SummaryRequest): Promise<SummaryResult> {
      const deadline = AbortSignal.timeout(options.timeoutMs);
      const signal = AbortSignal.any([request.signal, deadline]);
      request.onProgress(0.1);
      let response: Response;
      let text: string;
      try {
        response = await fetch(`${options.baseUrl}/chat/completions`, {
          method: 'POST',
          signal,
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            'content-type': 'application/json',
            'x-title': 'AsyncTaskFlow',
          },
          body: JSON.stringify({
            model: options.model,
            messages: [
              { role: 'system', content: SUMMARY_SYSTEM_PROMPT },
              { role: 'user', content: request.content },
            ],
            stream: false,
          }),
        });
        request.onProgress(0.5);
        text = await readCapped(response, options.maxResponseBytes, signal);
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        if (request.signal.aborted) throw request.signal.reason ?? error;
        const reason = deadline.aborted ? `no answer within ${options.timeoutMs} ms` : 'connection failed';
        throw new ProviderError(ErrorClass.NETWORK_TIMEOUT, reason, { cause: error });
      }

      let body: ChatCompletion | null = null;
      try {
        body = JSON.parse(text) as ChatCompletion;
      } catch {
        body = null;
      }
      if (!response.ok) {
        const message = body?.error?.message ?? `HTTP ${response.status}`;
        throw new ProviderError(classifyHttpStatus(response.status, message), message.slice(0, 500), {
          httpStatus: response.status,
        });
      }
      if (body === null || typeof body !== 'object') {
        throw new ProviderError(ErrorClass.PROVIDER_ERROR, 'provider answered with a body that is not JSON', {
          httpStatus: response.status,
        });
      }
      // OpenRouter reports some upstream failures inside a 200 answer.
      const upstream = body.error ?? body.choices?.[0]?.error;
      if (upstream) {
        const message = upstream.message ?? 'upstream provider error';
        const errorClass = isWarmupMessage(message)
          ? ErrorClass.MODEL_WARMUP
          : isModerationMessage(message)
            ? ErrorClass.CONTENT_FILTER
            : ErrorClass.PROVIDER_ERROR;
        throw new ProviderError(errorClass, message.slice(0, 500), { httpStatus: response.status });
      }
      const choice = body.choices?.[0];
      if (choice?.finish_reason === 'content_filter') {
        throw new ProviderError(ErrorClass.CONTENT_FILTER, 'the provider refused the content', { httpStatus: response.status });
      }
      const summary = choice?.message?.content?.trim();
      if (!summary) {
        throw new ProviderError(ErrorClass.PROVIDER_ERROR, 'provider answered without a summary', { httpStatus: response.status });
      }
      request.onProgress(0.9);
      const usage = body.usage;
      return {
        summary,
        usage: {
          model: body.model ?? options.model,
          promptTokens: usage?.prompt_tokens ?? null,
          completionTokens: usage?.completion_tokens ?? null,
          totalTokens: usage?.total_tokens ?? null,
        },
      };
    },
  };
}
