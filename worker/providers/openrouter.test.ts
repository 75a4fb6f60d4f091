import { describe, expect, it } from 'vitest';
import { classifyHttpStatus } from './openrouter.ts';

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
