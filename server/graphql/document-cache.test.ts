import { buildSchema, specifiedRules } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createDocumentCache } from './document-cache.ts';

const schema = buildSchema('type Query { ok: String } type Subscription { tick: Int }');

describe('createDocumentCache', () => {
  it('parses and validates a query text once, and answers the same document after', () => {
    const cache = createDocumentCache({ schema, rules: specifiedRules, maxTokens: 100, maxEntries: 2 });
    const first = cache.get('subscription { tick }');
    expect(first.errors).toBeUndefined();
    expect(cache.get('subscription { tick }').document).toBe(first.document);
  });

  it('keeps refusals: syntax, validation and token-limit errors', () => {
    const cache = createDocumentCache({ schema, rules: specifiedRules, maxTokens: 10, maxEntries: 10 });
    expect(cache.get('subscription { tick ').errors?.[0]?.message).toMatch(/Syntax Error/);
    expect(cache.get('subscription { tock }').errors?.[0]?.message).toMatch(/Cannot query field "tock"/);
    expect(cache.get(`subscription { ${'tick '.repeat(20)}}`).errors?.[0]?.message).toMatch(/token/i);
  });

  it('forgets the least recently used text past maxEntries', () => {
    const cache = createDocumentCache({ schema, rules: specifiedRules, maxTokens: 100, maxEntries: 1 });
    const first = cache.get('subscription { tick }').document;
    cache.get('{ ok }');
    expect(cache.get('subscription { tick }').document).not.toBe(first);
  });
});
