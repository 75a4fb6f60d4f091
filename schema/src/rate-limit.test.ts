import { describe, expect, it } from 'vitest';
import { parseRateLimit } from './rate-limit.ts';

describe('parseRateLimit', () => {
  it('reads calls per window', () => {
    expect(parseRateLimit('230/10s')).toEqual({ capacity: 230, windowMs: 10_000 });
    expect(parseRateLimit('5/m')).toEqual({ capacity: 5, windowMs: 60_000 });
    expect(parseRateLimit(' 100 / 500ms ')).toEqual({ capacity: 100, windowMs: 500 });
  });
  it.each(['', 'fast', '10', '10/0s', '0/1s', '-1/1s', '1/1d'])('rejects %j', (text) => {
    expect(() => parseRateLimit(text)).toThrow();
  });
});
