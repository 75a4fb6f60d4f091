/**
 * A task's provider calls, one row each, oldest first (`Task.usage.perCall`): the attempt, the
 * model that answered (what the call is priced at, which may differ from the model asked for),
 * its place in the chain, why its attempt switched model, its tokens and its cost.
 */
import { For, Show } from 'solid-js';
import { formatTime } from '../format.ts';
import { chainPlaceLabel, switchReasonShort, switchReasonText } from '../model-labels.ts';
import { formatCount, formatUsd } from '../spend-model.ts';
import type { TaskUsage } from './task-usage.tsx';

export function UsageCallsTable(props: { calls: TaskUsage['perCall'] }) {
  return (
    <div class="table-scroll">
      <table class="data-table usage-calls" data-testid="usage-calls">
        <thead>
          <tr>
            <th scope="col">Attempt</th>
            <th scope="col">Answered by</th>
            <th scope="col">Chain</th>
            <th scope="col">Switched because</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
            <th scope="col">At</th>
          </tr>
        </thead>
        <tbody>
          <For each={props.calls}>
            {(call) => (
              <tr data-model={call.model} data-attempt={call.attempt}>
                <td>{call.attempt}</td>
                <td class="mono" data-testid="call-model">
                  {call.model}
                </td>
                <td>{call.chainIndex === null || call.chainIndex === undefined ? '—' : chainPlaceLabel(call.chainIndex)}</td>
                <td>
                  <Show when={call.switchReason} fallback="—">
                    {(reason) => <span title={switchReasonText(reason())}>{switchReasonShort(reason())}</span>}
                  </Show>
                </td>
                <td>
                  {formatCount(call.promptTokens)} + {formatCount(call.completionTokens)}
                </td>
                <td>
                  {formatUsd(call.costUsd)}
                  <Show when={call.estimated}>
                    {' '}
                    <span class="estimated">estimated</span>
                  </Show>
                </td>
                <td>{formatTime(call.at)}</td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
}
