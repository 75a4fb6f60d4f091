import { describe, expect, it } from 'vitest';
import { createSseParser } from './sse.ts';

describe('createSseParser', () => {
  it('yields each event once complete, across arbitrary chunk boundaries, skipping comments', () => {
    const body = ': OPENROUTER PROCESSING\n\ndata: {"a":1}\n\ndata: {"b":\ndata: 2}\r\n\r\n: keep-alive\ndata: [DONE]\n\n';
    for (const size of [1, 3, 7, body.length]) {
      const parser = createSseParser();
      const events: string[] = [];
      for (let i = 0; i < body.length; i += size) events.push(...parser.push(body.slice(i, i + size)));
      events.push(...parser.end());
      expect(events).toEqual(['{"a":1}', '{"b":\n2}', '[DONE]']);
    }
  });

  it('hands over a last event that lacks its blank line', () => {
    const parser = createSseParser();
    expect(parser.push('data: {"x":1}')).toEqual([]);
    expect(parser.end()).toEqual(['{"x":1}']);
  });
});
