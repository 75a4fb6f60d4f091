/**
 * Reading one OpenRouter answer: the body under a size cap, the text of a whole answer or of a
 * stream's chunks, the generation id, model and usage they carry, and the errors inside a 200
 * answer (each a ProviderError of one class).
 */
import { ProviderError } from '../../schema/src/errors.ts';
import { isModelId } from '../../schema/src/model-breakers.ts';
import { ErrorClass } from '../../schema/src/task.ts';
import { classifyUpstreamError } from './openrouter-errors.ts';
import type { OpenRouterUsage } from './openrouter-usage.ts';

export interface UpstreamError {
  code?: number | string;
  message?: string;
  metadata?: Record<string, unknown>;
}

/** A whole answer, or one streamed chunk of it (`delta` instead of `message`). */
export interface ChatCompletion {
  /** The generation id (`gen-…`). */
  id?: string;
  model?: string;
  choices?: {
    message?: { content?: string | null };
    delta?: { content?: string | null };
    finish_reason?: string | null;
    error?: UpstreamError;
  }[];
  usage?: OpenRouterUsage | null;
  error?: UpstreamError;
}

/** Reads the body as text, in pieces, under the size cap and the call's signal. */
export async function* readBody(response: Response, maxBytes: number, signal: AbortSignal): AsyncGenerator<string> {
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
export class AnswerCollector {
  private parts: string[] = [];
  private chars = 0;
  private finished = false;
  model: string | undefined;
  id: string | undefined;
  usage: ChatCompletion['usage'];
  /** The finish reason the answer gave, if any. */
  finishReason: string | undefined;

  constructor(
    private readonly status: number,
    private readonly onText: (delta: string, chars: number) => void,
    /** Told the generation id of each chunk that has one (the caller keeps the first). */
    private readonly onId: (id: string | undefined) => void = () => undefined,
  ) {}

  /** Takes one chunk (or a whole answer). */
  take(chunk: ChatCompletion): void {
    // What identifies and prices the call is kept first: a chunk may also carry an error.
    // The answering model is written into output frames and ledger fields that tabs and line
    // ends delimit: an id that is not one keeps the model the call was sent to.
    this.model = isModelId(chunk.model) ? chunk.model : this.model;
    this.id = this.id ?? chunk.id;
    this.onId(this.id);
    this.usage = chunk.usage ?? this.usage;
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
    if (choice?.finish_reason) {
      this.finished = true;
      this.finishReason = choice.finish_reason;
    }
  }

  /** Every piece of text received so far, as it came. */
  received(): string {
    return this.parts.join('');
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

export function parseJson(text: string, status: number): ChatCompletion {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') return parsed as ChatCompletion;
  } catch {
    // reported below
  }
  throw new ProviderError(ErrorClass.PROVIDER_ERROR, 'provider answered with a body that is not JSON', { httpStatus: status });
}
