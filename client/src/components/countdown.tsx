import { Show } from 'solid-js';
import { formatSpan, formatTime } from '../format.ts';
import { createNow } from '../primitives/create-now.ts';

/** "in 12 s" until `at`, then "due": a live countdown to a retry or a probe. */
export function Countdown(props: { at: string }) {
  const now = createNow();
  const left = () => new Date(props.at).getTime() - now();
  return (
    <time datetime={props.at} class="countdown" data-testid="countdown" title={formatTime(props.at)}>
      <Show when={left() > 500} fallback="due now">
        in {formatSpan(left())}
      </Show>
    </time>
  );
}
