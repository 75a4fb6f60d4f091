/**
 * Server-sent events as OpenRouter streams them, parsed by eventsource-parser: `data:` lines
 * (joined when an event spans several), blank lines ending an event, comment lines starting
 * with `:` (OpenRouter's keep-alive, ": OPENROUTER PROCESSING") skipped, and LF, CRLF or bare
 * CR line ends. Only each event's data is used: event names, ids and retry hints carry nothing
 * OpenRouter uses.
 *
 * Library over our own parser (issue 14, `bench/library-eval.ts`): ours rescanned its whole
 * buffer on every piece, so one long line arriving in small pieces was quadratic (a 1 MiB line
 * in 1 KiB reads: 325 ms against 0.8 ms; in 64-character reads: 5.4 s against 5 ms, the worker's
 * event loop blocked all along); on an ordinary stream the library takes about half the time.
 * 3.1.1 is the newest release for Node 20 (4.x declares Node 22.12 and is ESM-only).
 */
import { createParser } from 'eventsource-parser';

export interface SseParser {
  /** Feeds the next piece of the body; returns the data of every event it completed. */
  push(text: string): string[];
  /** The data of a last event the stream ended without a blank line after. */
  end(): string[];
}

/**
 * A parser for one response body. Pieces may split a line, a CRLF pair or an event anywhere;
 * they are decoded text (a multi-byte character split across network reads is the decoder's
 * job). Never throws: a line it cannot use (an unknown field, a bad `retry:`) is skipped.
 */
export function createSseParser(): SseParser {
  let completed: string[] = [];
  const parser = createParser({ onEvent: (event) => completed.push(event.data) });
  const take = () => {
    const events = completed;
    completed = [];
    return events;
  };
  return {
    push(text) {
      parser.feed(text);
      return take();
    },
    end() {
      // The SSE spec drops an event the stream ends before its blank line; OpenRouter's last
      // one may lack it, so end the pending line and the event here (on a stream that ended
      // cleanly these are blank lines that dispatch nothing).
      parser.feed('\n\n');
      return take();
    },
  };
}
