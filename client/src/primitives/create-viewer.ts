/**
 * Who the server takes us to be (the `viewer` query). A server without the auth work, or
 * any failure that was not a refusal, means "anonymous, every scope": the UI must not lock
 * an operator out because one query failed. A 401 means the key prompt (auth.ts).
 */
import { createQuery } from '@urql/solid';
import { createMemo } from 'solid-js';
import type { Scope } from '../gql/graphql.ts';
import { ViewerQuery } from '../graphql/viewer.ts';

export const ALL_SCOPES: readonly Scope[] = ['TASKS_WRITE', 'TASKS_READ', 'ADMIN'];

export interface ViewerInfo {
  tenant: string;
  scopes: readonly Scope[];
  authenticationRequired: boolean;
  /** The server's TRACE_URL_TEMPLATE (a trace viewer's URL with {traceId}), or null. */
  traceUrlTemplate: string | null;
  /** False until the viewer query answered or failed. */
  known: boolean;
}

/** Decides the viewer from the query's outcome (exported for tests). */
export function viewerFrom(result: {
  data?: { viewer: { tenant: string; scopes: Scope[]; authenticationRequired: boolean; traceUrlTemplate?: string | null } } | null;
  error?: { response?: { status?: number } | null; graphQLErrors: readonly { extensions?: Record<string, unknown> }[] } | null;
  fetching: boolean;
}): ViewerInfo {
  if (result.data?.viewer) return { ...result.data.viewer, traceUrlTemplate: result.data.viewer.traceUrlTemplate ?? null, known: true };
  const refused =
    result.error?.response?.status === 401 || result.error?.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED') === true;
  if (refused) return { tenant: '', scopes: [], authenticationRequired: true, traceUrlTemplate: null, known: true };
  return { tenant: 'anonymous', scopes: ALL_SCOPES, authenticationRequired: false, traceUrlTemplate: null, known: !result.fetching };
}

export function createViewer() {
  const [result, refetch] = createQuery({ query: ViewerQuery });
  const viewer = createMemo(() => viewerFrom({ data: result.data, error: result.error, fetching: result.fetching }));
  return {
    viewer,
    has: (scope: Scope) => viewer().scopes.includes(scope),
    isAdmin: () => viewer().scopes.includes('ADMIN'),
    refetch: () => refetch(),
  };
}
