/**
 * Checks task input before anything is stored. Sizes are UTF-8 bytes, not characters,
 * because that is what Redis stores and the provider bills.
 */
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import { MAX_CHAIN_LENGTH } from '../../schema/src/model-chain.ts';
import { MODEL_ID_PATTERN } from '../../schema/src/model-breakers.ts';

export const InputRejection = {
  EMPTY: 'EMPTY',
  WHITESPACE_ONLY: 'WHITESPACE_ONLY',
  INVISIBLE_ONLY: 'INVISIBLE_ONLY',
  CONTROL_CHARACTER: 'CONTROL_CHARACTER',
  LONE_SURROGATE: 'LONE_SURROGATE',
  TOO_LARGE: 'TOO_LARGE',
  BAD_IDEMPOTENCY_KEY: 'BAD_IDEMPOTENCY_KEY',
  /** `models` is empty, too long, repeats a model, or names one that is malformed or not allowed. */
  BAD_MODELS: 'BAD_MODELS',
  MODEL_NOT_ALLOWED: 'MODEL_NOT_ALLOWED',
} as const;
export type InputRejection = (typeof InputRejection)[keyof typeof InputRejection];

// C0 controls except tab, line feed and carriage return; DEL; C1 controls.
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
// Format characters (zero-width space/joiners, BOM, bidi marks), variation selectors and
// other default-ignorable code points that render as nothing.
const INVISIBLE = /[\p{Cf}\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFE00-\uFE0F\uFFA0]/gu;
const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,200}$/;

function reject(reason: InputRejection, message: string, extra: Record<string, unknown> = {}): never {
  throw new AppError(ErrorCode.BAD_USER_INPUT, message, { details: { reason, ...extra } });
}

/** Throws BAD_USER_INPUT (with `details.reason`) unless `content` is acceptable task text. */
export function validateContent(content: string, maxBytes: number): void {
  if (content.length === 0) reject(InputRejection.EMPTY, 'content is empty');
  if (!content.isWellFormed()) reject(InputRejection.LONE_SURROGATE, 'content contains a lone surrogate');
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > maxBytes) {
    reject(InputRejection.TOO_LARGE, `content is ${bytes} bytes; the limit is ${maxBytes}`, { maxBytes });
  }
  if (CONTROL_CHARACTER.test(content)) {
    reject(InputRejection.CONTROL_CHARACTER, 'content contains a control character');
  }
  if (content.trim().length === 0) reject(InputRejection.WHITESPACE_ONLY, 'content is only whitespace');
  if (content.replace(INVISIBLE, '').trim().length === 0) {
    reject(InputRejection.INVISIBLE_ONLY, 'content has no visible characters');
  }
}

/** Throws BAD_USER_INPUT unless the key is 1-200 printable ASCII characters. */
export function validateIdempotencyKey(key: string): void {
  if (!IDEMPOTENCY_KEY.test(key)) {
    reject(InputRejection.BAD_IDEMPOTENCY_KEY, 'idempotencyKey must be 1-200 printable ASCII characters');
  }
}

/**
 * Throws BAD_USER_INPUT unless `models` is a chain a task may run: 1 to MAX_CHAIN_LENGTH
 * well-formed model ids, each once, and each in `allowed` when that is set
 * (OPENROUTER_ALLOWED_MODELS; `details.models` then lists the ones refused).
 */
export function validateModels(models: readonly string[], allowed: readonly string[] | null): void {
  if (models.length === 0) reject(InputRejection.BAD_MODELS, 'models is empty: leave it out for the configured chain');
  if (models.length > MAX_CHAIN_LENGTH) reject(InputRejection.BAD_MODELS, `models lists ${models.length} models; at most ${MAX_CHAIN_LENGTH}`, { max: MAX_CHAIN_LENGTH });
  const malformed = models.filter((model) => !MODEL_ID_PATTERN.test(model));
  if (malformed.length > 0) reject(InputRejection.BAD_MODELS, 'models holds a malformed model id: letters, digits and . _ : / @ + - (up to 200)');
  if (new Set(models).size !== models.length) reject(InputRejection.BAD_MODELS, 'models lists a model twice');
  if (allowed === null) return;
  const refused = models.filter((model) => !allowed.includes(model));
  if (refused.length > 0) reject(InputRejection.MODEL_NOT_ALLOWED, `models may only name models in OPENROUTER_ALLOWED_MODELS; not allowed: ${refused.join(', ')}`, { models: refused });
}
