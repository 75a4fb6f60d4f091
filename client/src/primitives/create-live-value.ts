/**
 * The latest value of a subscription that sends a snapshot first (workers, provider status,
 * queue status, task flow): graphql-ws resubscribes after a reconnect, so the snapshot heals
 * whatever was missed.
 */
import { createSubscription } from '@urql/solid';
import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { errorMessage } from '../format.ts';
import type { Accessor } from 'solid-js';

export function createLiveValue<Data, Value, Variables extends AnyVariables = AnyVariables>(
  query: TypedDocumentNode<Data, Variables>,
  pick: (data: Data) => Value,
  options: { variables?: Variables; pause?: Accessor<boolean> } = {},
) {
  const [state] = createSubscription<Data, Value | undefined, Variables>(
    { query, variables: options.variables as Variables, pause: options.pause ?? (() => false) },
    (_previous, data) => pick(data),
  );
  return {
    value: (): Value | undefined => state.data,
    error: () => (state.error ? errorMessage(state.error) : null),
  };
}
