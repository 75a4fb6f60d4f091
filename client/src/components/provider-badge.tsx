import { Show } from 'solid-js';
import type { ProviderState } from '../gql/graphql.ts';
import { formatTime } from '../format.ts';
import { Countdown } from './countdown.tsx';

const TEXT: Record<ProviderState, { label: string; tone: 'good' | 'warn' | 'bad'; hint: string }> = {
  ACTIVE: { label: 'Provider active', tone: 'good', hint: 'answering, with credit' },
  LOCAL: { label: 'Local summarizer', tone: 'good', hint: 'no provider key: summaries are made in the workers' },
  KEY_MISSING: { label: 'Key missing', tone: 'bad', hint: 'a remote provider is configured without a key' },
  KEY_INVALID: { label: 'Key invalid', tone: 'bad', hint: 'the provider refuses the key' },
  CREDITS_EXHAUSTED: { label: 'Credits exhausted', tone: 'bad', hint: 'add credit at the provider' },
  RATE_LIMITED: { label: 'Rate limited', tone: 'warn', hint: 'every worker holds its calls' },
  UNAVAILABLE: { label: 'Provider unavailable', tone: 'warn', hint: 'the check failed, or no worker checked yet' },
};

export interface ProviderStatusView {
  state: ProviderState;
  creditsRemaining?: number | null;
  rateLimitedUntil?: string | null;
  checkedAt: string;
}

/** The provider at a glance: state, credit left, rate-limit pause. */
export function ProviderBadge(props: { status: ProviderStatusView | undefined }) {
  return (
    <Show when={props.status} fallback={<span class="provider provider-unknown">Provider …</span>}>
      {(status) => (
        <div class={`provider provider-${TEXT[status().state].tone}`} data-provider-state={status().state} role="status">
          <strong>{TEXT[status().state].label}</strong>
          <span class="muted"> · {TEXT[status().state].hint}</span>
          <Show when={status().creditsRemaining !== null && status().creditsRemaining !== undefined}>
            <span> · credit left {status().creditsRemaining!.toFixed(2)}</span>
          </Show>
          <Show when={status().rateLimitedUntil}>
            {(until) => (
              <span>
                {' '}
                · calls resume <Countdown at={until()} />
              </span>
            )}
          </Show>
          <span class="muted"> · checked {formatTime(status().checkedAt)}</span>
        </div>
      )}
    </Show>
  );
}
