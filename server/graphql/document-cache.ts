/**
 * Parsed and validated subscription documents, by query text. Validation does not depend on
 * variables or on who asks, so a document checked once (GraphQL's rules and our limits) is
 * good for every later subscribe with the same text: a thousand watchers of one operation
 * parse and validate it once. graphql-ws has no cache of its own (Apollo's HTTP path does).
 * Refusals are cached too, so a client repeating a bad query costs a lookup.
 */
import { parse, validate, type DocumentNode, type GraphQLError, type GraphQLSchema, type ValidationRule } from 'graphql';
import { LRUCache } from 'lru-cache';

export type CheckedDocument = { document: DocumentNode; errors?: undefined } | { document?: undefined; errors: readonly GraphQLError[] };

export interface DocumentCacheOptions {
  schema: GraphQLSchema;
  rules: readonly ValidationRule[];
  maxTokens: number;
  /** Distinct query texts kept (least recently used go first). */
  maxEntries: number;
}

export function createDocumentCache(options: DocumentCacheOptions) {
  const cache = new LRUCache<string, CheckedDocument>({ max: options.maxEntries });

  function check(query: string): CheckedDocument {
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: options.maxTokens });
    } catch (error) {
      return { errors: [error as GraphQLError] };
    }
    const errors = validate(options.schema, document, options.rules);
    return errors.length > 0 ? { errors } : { document };
  }

  return {
    /** The document for `query`, or the errors that refuse it. */
    get(query: string): CheckedDocument {
      let checked = cache.get(query);
      if (!checked) cache.set(query, (checked = check(query)));
      return checked;
    },
  };
}
