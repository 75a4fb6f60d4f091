import { Show } from 'solid-js';
import { formatSpan, formatTime } from '../format.ts';
import { createNow } from '../primitives/create-now.ts';

/**
 * "in 12 s" until `at`, then `due` (default "due now"): a live countdown to a retry, a probe or
 * an estimated start.
 */
export function Countdown(props: { at: string; due?: string }) {
  const now = createNow();
  const left = () => new Date(props.at).getTime() - now();
  return (
    <time datetime={props.at} class="countdown" data-testid="countdown" title={formatTime(props.at)}>
      <Show when={left() > 500} fallback={props.due ?? 'due now'}>
        in {formatSpan(left())}
      </Show>
    </time>
  );
}
