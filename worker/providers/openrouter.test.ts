import { describe, expect, it } from 'vitest';
import { classifyHttpStatus, classifyUpstreamError, parseRetryAfter } from './openrouter-errors.ts';

describe('classifyHttpStatus', () => {
  it.each([
    [402, 'Insufficient credits', 'INSUFFICIENT_CREDITS'],
    [429, 'Rate limit exceeded', 'RATE_LIMIT'],
    [503, 'No instances available', 'SERVICE_UNAVAILABLE'],
    [503, 'Model is warming up, try again', 'MODEL_WARMUP'],
    [500, 'Internal error', 'NETWORK_TIMEOUT'],
    [502, 'Bad gateway', 'NETWORK_TIMEOUT'],
    [504, '<html>Gateway Timeout</html>', 'NETWORK_TIMEOUT'],
    [408, 'Request timeout', 'NETWORK_TIMEOUT'],
    [400, 'Invalid model', 'PERMANENT'],
    [401, 'Invalid credentials', 'PERMANENT'],
    [403, 'Forbidden', 'PERMANENT'],
    [403, 'Input was flagged by moderation', 'CONTENT_FILTER'],
    [404, 'Not found', 'PERMANENT'],
  ])('HTTP %i "%s" is %s', (status, message, expected) => {
    expect(classifyHttpStatus(status, message)).toBe(expected);
  });
});

describe('classifyUpstreamError', () => {
  it.each([
    ['Model is warming up', undefined, 'MODEL_WARMUP'],
    ['Your input was flagged by moderation', 403, 'CONTENT_FILTER'],
    ['Provider returned error', 502, 'PROVIDER_ERROR'],
    ['Insufficient credits', 402, 'INSUFFICIENT_CREDITS'],
    ['Rate limited upstream', '429', 'RATE_LIMIT'],
    ['Something broke', undefined, 'PROVIDER_ERROR'],
  ])('"%s" (code %s) is %s', (message, code, expected) => {
    expect(classifyUpstreamError(message, code)).toBe(expected);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and ignores what it cannot read', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
