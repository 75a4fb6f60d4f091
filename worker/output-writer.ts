/**
 * Streams one attempt's output into the task's output stream while the handler writes it:
 * the first text goes out at once (the time to first text is what a watcher feels), later
 * pieces are coalesced (at most one append every `flushMs`, sooner once `flushChars` wait),
 * one append is in flight at a time, and what the provider will trim (leading and trailing
 * whitespace) is held back, so the text written is always a prefix of the result. The
 * completion then appends only what the result adds (`final`).
 *
 * Each append is fenced by the lease: a stale answer means another worker owns the task now,
 * and the writer reports it (`onStale`) and writes nothing more. Past the attempt's size cap it
 * reports `onTooLarge`. A failed append stops streaming for this attempt (the final chunk then
 * carries the rest), so watchers never see a hole in the text.
 */
import type { AppendOutcome } from '../schema/src/scripts/output.ts';
import type { FinalOutput } from './task-store.ts';

export interface OutputWriterOptions {
  /** Appends `text` after the `expectedBytes` the writer knows are stored. */
  append(text: string, expectedBytes: number): Promise<AppendOutcome>;
  flushMs: number;
  flushChars: number;
  maxBytes: number;
  onStale(): void;
  onTooLarge(bytes: number): void;
  onError(error: Error): void;
}

const TRAILING_SPACE = /\s+$/;

export class OutputWriter {
  /** Text acknowledged by the store, in order. */
  private written = '';
  private writtenBytes = 0;
  private buffer = '';
  /** Whitespace held back until text follows it (the result is trimmed). */
  private held = '';
  private started = false;
  private flushedOnce = false;
  private stopped = false;
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: OutputWriterOptions) {}

  /** Takes the next piece of the answer. */
  write(delta: string): void {
    if (this.stopped) return;
    let text = delta;
    if (!this.started) {
      text = text.trimStart();
      if (!text) return;
      this.started = true;
    }
    const combined = this.held + text;
    const trailing = TRAILING_SPACE.exec(combined)?.[0] ?? '';
    this.held = trailing;
    this.buffer += combined.slice(0, combined.length - trailing.length);
    this.schedule();
  }

  /** Stops streaming and waits for the append in flight; after this the writer writes nothing. */
  async settle(): Promise<void> {
    this.stop();
    await this.inFlight;
  }

  /** The attempt's last chunk for `result`: what it adds to the streamed text, or all of it. */
  final(result: string): FinalOutput {
    const streamedBytes = this.writtenBytes;
    return result.startsWith(this.written)
      ? { text: result.slice(this.written.length), reset: false, streamedBytes }
      : { text: result, reset: true, streamedBytes };
  }

  private stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.stopped || this.inFlight || !this.buffer) return;
    if (!this.flushedOnce || this.buffer.length >= this.options.flushChars) {
      this.flush();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.options.flushMs);
    }
  }

  private flush(): void {
    if (this.stopped || this.inFlight || !this.buffer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const text = this.buffer;
    this.buffer = '';
    this.flushedOnce = true;
    const bytes = Buffer.byteLength(text);
    if (this.writtenBytes + bytes > this.options.maxBytes) {
      this.stop();
      this.options.onTooLarge(this.writtenBytes + bytes);
      return;
    }
    this.inFlight = this.options.append(text, this.writtenBytes).then(
      (outcome) => {
        // 'moved' to exactly this length: the append had been applied and its reply lost (resent).
        if (outcome.status === 'ok' || (outcome.status === 'moved' && outcome.bytes === this.writtenBytes + bytes)) {
          this.written += text;
          this.writtenBytes += bytes;
        } else if (outcome.status === 'moved') {
          // Not what this writer wrote: stop; the completion replaces the stream with the result.
          this.stop();
          this.options.onError(new Error(`output is ${outcome.bytes} bytes, not the ${this.writtenBytes} written`));
        } else if (outcome.status === 'stale') {
          this.stop();
          this.options.onStale();
        } else {
          this.stop();
          this.options.onTooLarge(outcome.bytes + bytes);
        }
      },
      (error: Error) => {
        this.stop();
        this.options.onError(error);
      },
    ).finally(() => {
      this.inFlight = null;
      this.schedule();
    });
  }
}
