/**
 * An incremental parser for server-sent events as OpenRouter streams them: `data:` lines
 * (joined when an event spans several), blank lines ending an event, and comment lines
 * starting with `:` (OpenRouter's keep-alive, ": OPENROUTER PROCESSING"), which are skipped.
 */
export interface SseParser {
  /** Feeds the next piece of the body; returns the data of every event it completed. */
  push(text: string): string[];
  /** The data of a last event the stream ended without a blank line after. */
  end(): string[];
}

export function createSseParser(): SseParser {
  let buffer = '';
  let data: string[] = [];

  const takeLine = (line: string, events: string[]) => {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') {
      if (data.length > 0) events.push(data.join('\n'));
      data = [];
    } else if (line.startsWith(':')) {
      // comment (keep-alive)
    } else if (line.startsWith('data:')) {
      data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
    // other fields (event:, id:, retry:) carry nothing OpenRouter uses
  };

  return {
    push(text) {
      buffer += text;
      const events: string[] = [];
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        takeLine(buffer.slice(0, newline), events);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
      return events;
    },
    end() {
      const events: string[] = [];
      if (buffer) takeLine(buffer, events);
      buffer = '';
      takeLine('', events);
      return events;
    },
  };
}
