import { describe, expect, it } from 'vitest';
import { createSseParser } from './sse.ts';

/** Every event's data, the body fed in the given pieces. */
function parse(pieces: readonly string[]): string[] {
  const parser = createSseParser();
  const events = pieces.flatMap((piece) => parser.push(piece));
  return [...events, ...parser.end()];
}

/** The body whole, cut once at every position, and one character at a time. */
function everySplit(body: string): string[][] {
  const cuts = Array.from({ length: body.length - 1 }, (_, i) => [body.slice(0, i + 1), body.slice(i + 1)]);
  return [[body], ...cuts, [...body]];
}

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
    expect(parse(['data: last\n'])).toEqual(['last']);
    expect(parse(['data: last\r'])).toEqual(['last']);
  });

  it('treats CRLF as one line end wherever the pieces split it, and a bare CR as a line end', () => {
    for (const pieces of everySplit('data: a\r\n\r\ndata: b\r\ndata: c\r\n\r\n')) expect(parse(pieces)).toEqual(['a', 'b\nc']);
    for (const pieces of everySplit('data: a\r\rdata: b\r\r')) expect(parse(pieces)).toEqual(['a', 'b']);
  });

  it('keeps multi-byte text whole when the decoder splits it across reads', () => {
    const bytes = new TextEncoder().encode('data: {"t":"héllo 😀 世界"}\n\n');
    for (let at = 1; at < bytes.length; at++) {
      const decoder = new TextDecoder();
      const pieces = [decoder.decode(bytes.slice(0, at), { stream: true }), decoder.decode(bytes.slice(at), { stream: true }), decoder.decode()];
      expect(parse(pieces)).toEqual(['{"t":"héllo 😀 世界"}']);
    }
  });

  it('reads data with or without the space after the colon, and ignores the other fields', () => {
    expect(parse(['data:x\n\ndata:  y\n\n'])).toEqual(['x', ' y']);
    expect(parse(['data:\n\n'])).toEqual(['']);
    expect(parse(['event: message\nid: 7\nretry: oops\nfoo: bar\ndata: ok\n\n'])).toEqual(['ok']);
    expect(parse(['\n\n\n: only comments\n\n'])).toEqual([]);
  });

  it('takes one long line in small pieces', () => {
    const content = 'x'.repeat(256 * 1024);
    const body = `data: {"content":"${content}"}\n\n`;
    const pieces = Array.from({ length: Math.ceil(body.length / 64) }, (_, i) => body.slice(i * 64, (i + 1) * 64));
    expect(parse(pieces)).toEqual([`{"content":"${content}"}`]);
  });
});
