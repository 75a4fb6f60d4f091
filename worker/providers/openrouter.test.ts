import { describe, expect, it } from 'vitest';
import { classifyHttpStatus, classifyUpstreamError, parseRetryAfter, paymentKind } from './openrouter-errors.ts';

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

describe('a 402 by what its metadata says', () => {
  it.each([
    [{ reason: 'in_flight_budget_exhausted', limit_source: 'openrouter_in_flight_budget' }, 'Busy', 'in_flight'],
    [{ limit_source: 'openrouter_in_flight_budget' }, 'Busy', 'in_flight'],
    [undefined, 'in_flight_budget_exhausted', 'in_flight'],
    [{ reason: 'weight_exceeds_budget', limit_source: 'openrouter_credits' }, 'Too expensive', 'over_budget'],
    [{ limit_source: 'openrouter_credits' }, 'Insufficient credits', 'credits'],
    ['not an object', 'Insufficient credits', 'credits'],
  ])('%o with "%s" is %s', (metadata, message, expected) => {
    expect(paymentKind(metadata, message)).toBe(expected);
  });

  it('classes a request larger than the whole in-flight budget apart from a lack of credit', () => {
    expect(classifyHttpStatus(402, 'Too expensive', { reason: 'weight_exceeds_budget' })).toBe('REQUEST_OVER_BUDGET');
    expect(classifyHttpStatus(402, 'Busy', { reason: 'in_flight_budget_exhausted' })).toBe('INSUFFICIENT_CREDITS');
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
