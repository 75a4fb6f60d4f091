import { describe, expect, it } from 'vitest';
import { isAppError } from '../../schema/src/errors.ts';
import { validateContent, validateIdempotencyKey } from './content-validation.ts';

function rejection(action: () => void): string | null {
  try {
    action();
    return null;
  } catch (error) {
    if (!isAppError(error)) throw error;
    expect(error.code).toBe('BAD_USER_INPUT');
    return String(error.details?.reason);
  }
}

describe('validateContent', () => {
  const limit = 64;
  it.each([
    ['', 'EMPTY'],
    ['   \n\t ', 'WHITESPACE_ONLY'],
    ['\u200B\u200D\uFEFF', 'INVISIBLE_ONLY'],
    [' \u2060 \u200B ', 'INVISIBLE_ONLY'],
    ['hello\u0000world', 'CONTROL_CHARACTER'],
    ['bell\u0007', 'CONTROL_CHARACTER'],
    ['lone \uD800 surrogate', 'LONE_SURROGATE'],
    ['x'.repeat(65), 'TOO_LARGE'],
    // 22 characters but 66 bytes in UTF-8: the limit is in bytes.
    ['€'.repeat(22), 'TOO_LARGE'],
  ])('rejects %j as %s', (content, reason) => {
    expect(rejection(() => validateContent(content, limit))).toBe(reason);
  });

  it.each(['Hello world.', 'Línea uno.\nLínea dos.\tTab.', '東京は日本の首都です。', '€'.repeat(21), '👍 emoji pair'])('accepts %j', (content) => {
    expect(rejection(() => validateContent(content, limit))).toBeNull();
  });
});

describe('validateIdempotencyKey', () => {
  it('accepts printable ASCII up to 200 characters and rejects the rest', () => {
    expect(rejection(() => validateIdempotencyKey('order-42:retry/1'))).toBeNull();
    expect(rejection(() => validateIdempotencyKey(''))).toBe('BAD_IDEMPOTENCY_KEY');
    expect(rejection(() => validateIdempotencyKey('has space'))).toBe('BAD_IDEMPOTENCY_KEY');
    expect(rejection(() => validateIdempotencyKey('k'.repeat(201)))).toBe('BAD_IDEMPOTENCY_KEY');
    expect(rejection(() => validateIdempotencyKey('ключ'))).toBe('BAD_IDEMPOTENCY_KEY');
  });
});
