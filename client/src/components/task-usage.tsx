/**
 * What a task cost, as rows of the task page's facts list: every provider call of every attempt
 * added up (failed attempts were billed too). The cost is marked *estimated* when a call was cut
 * off before the provider reported its usage; cached and reasoning tokens show when there are any.
 */
import { Show } from 'solid-js';
import type { TaskDetailFieldsFragment } from '../gql/graphql.ts';
import { formatCount, formatUsd } from '../spend-model.ts';

export type TaskUsage = NonNullable<TaskDetailFieldsFragment['usage']>;

/** `a, b and c`, for the token kinds. */
const tokenDetail = (usage: TaskUsage) =>
  [
    usage.promptTokens !== null ? `${formatCount(usage.promptTokens)} prompt` : null,
    usage.completionTokens !== null ? `${formatCount(usage.completionTokens)} completion` : null,
    usage.cachedTokens ? `${formatCount(usage.cachedTokens)} cached` : null,
    usage.reasoningTokens ? `${formatCount(usage.reasoningTokens)} reasoning` : null,
  ]
    .filter((part): part is string => part !== null)
    .join(', ');

/** The Cost, Model and Tokens rows of a `<dl class="facts">`. */
export function TaskUsageFacts(props: { usage: TaskUsage }) {
  return (
    <>
      <dt>Cost</dt>
      <dd data-testid="cost">
        <Show when={props.usage.costUsd !== null} fallback={<span class="muted">not recorded</span>}>
          <strong data-testid="cost-usd">{formatUsd(props.usage.costUsd ?? 0)}</strong>
        </Show>
        <Show when={props.usage.estimated}>
          {' '}
          <span class="estimated" data-testid="cost-estimated" title="A call was cut off before the provider reported its usage: some figures are estimates.">
            estimated
          </span>
        </Show>
        <span class="muted">
          {' '}
          · {props.usage.calls} {props.usage.calls === 1 ? 'call' : 'calls'}
        </span>
      </dd>
      <dt>Model</dt>
      <dd data-testid="usage">{props.usage.model || '—'}</dd>
      <dt>Tokens</dt>
      <dd data-testid="tokens">
        <Show when={props.usage.totalTokens !== null} fallback="—">
          {formatCount(props.usage.totalTokens ?? 0)} tokens <span class="muted">({tokenDetail(props.usage)})</span>
        </Show>
      </dd>
    </>
  );
}
