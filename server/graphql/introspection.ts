/**
 * Who may read the schema through introspection (GRAPHQL_INTROSPECTION): everyone (`on`, the
 * development default), callers with a valid API key of any scope (`keys`, the default
 * elsewhere), or no one (`off`). The rule needs the caller, which GraphQL validation rules never
 * see, so it is checked once the document is valid: by an Apollo plugin over HTTP and by ws.ts
 * over WebSocket, with the same function.
 *
 * Without API keys configured every caller is anonymous, so `keys` refuses everyone and says how
 * to get a key. Field suggestions ("Did you mean ...?") give the schema away too: they are shown
 * only while introspection is `on` for everyone.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { BREAK, GraphQLError, visit, type DocumentNode } from 'graphql';
import { ErrorCode } from '../../schema/src/errors.ts';
import { ANONYMOUS_ACTOR, type Caller } from '../auth/scopes.ts';
import type { GraphQLContext } from './context.ts';

export const IntrospectionPolicy = { ON: 'on', KEYS: 'keys', OFF: 'off' } as const;
export type IntrospectionPolicy = (typeof IntrospectionPolicy)[keyof typeof IntrospectionPolicy];
export const INTROSPECTION_POLICIES = Object.values(IntrospectionPolicy) as [IntrospectionPolicy, ...IntrospectionPolicy[]];

/** Whether `caller` may introspect under `policy`: a key of any scope is enough for `keys`. */
export function mayIntrospect(policy: IntrospectionPolicy, caller: Caller): boolean {
  if (policy === IntrospectionPolicy.KEYS) return caller.actor !== ANONYMOUS_ACTOR;
  return policy === IntrospectionPolicy.ON;
}

const readsSchemaCache = new WeakMap<DocumentNode, boolean>();

/**
 * Whether a valid document reads the schema. Only `__schema` and `__type` lead to the
 * introspection types (`__typename` is a plain String), so a valid document that names neither
 * introspects nothing. Documents are cached by Apollo and ws.ts: the answer is kept per document.
 */
export function readsSchema(document: DocumentNode): boolean {
  const known = readsSchemaCache.get(document);
  if (known !== undefined) return known;
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  readsSchemaCache.set(document, found);
  return found;
}

/**
 * The error that refuses introspection to `caller`, or null when the document does not
 * introspect or the caller may. `keys` answers UNAUTHENTICATED (the remedy is a key), `off`
 * GRAPHQL_VALIDATION_FAILED (no key helps).
 */
export function introspectionRefusal(
  document: DocumentNode,
  policy: IntrospectionPolicy,
  caller: Caller,
  authenticationRequired: boolean,
): GraphQLError | null {
  if (mayIntrospect(policy, caller) || !readsSchema(document)) return null;
  if (policy === IntrospectionPolicy.OFF) {
    return new GraphQLError('introspection is off on this server (GRAPHQL_INTROSPECTION=off)', {
      extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED, http: { status: 400 } },
    });
  }
  const message = authenticationRequired
    ? 'introspection needs an API key: send Authorization: Bearer <key> (an operator makes one with `npm run keys`)'
    : 'introspection needs an API key, and this server has none configured: make one with `npm run keys` and set AUTH_REQUIRED=true (or API_KEYS), or set GRAPHQL_INTROSPECTION=on';
  return new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } } });
}

/** The policy over HTTP: an Apollo plugin that refuses the operation before anything runs. */
export function introspectionPolicyPlugin(policy: IntrospectionPolicy): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, contextValue }) {
          const refusal = introspectionRefusal(document, policy, contextValue.caller, contextValue.authenticationRequired);
          if (refusal) throw refusal;
        },
      };
    },
  };
}
