import type { Accessor } from 'solid-js';
import type { ConnectionState } from '../urql-client.ts';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

/** Tells the operator whether the screen is live. */
export function ConnectionBadge(props: { state: Accessor<ConnectionState> }) {
  return (
    <span class={`connection connection-${props.state()}`} role="status" aria-live="polite" data-connection={props.state()}>
      <span class="connection-dot" aria-hidden="true" />
      {LABELS[props.state()]}
    </span>
  );
}
