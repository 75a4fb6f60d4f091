/**
 * Where a waiting task stands, as its page and the lists show it: why it waits, how many tasks
 * start before it, and when it should start. Nothing is shown for a task that does not wait.
 */
import { Show } from 'solid-js';
import { positionShort, positionText, priorityLabel, waitReasonShort, waitReasonText, type TaskStanding } from '../dispatch-labels.ts';
import { formatTime } from '../format.ts';
import type { TaskPriority } from '../gql/graphql.ts';
import { Countdown } from './countdown.tsx';

/** The standing as rows of a task page's facts (`<dl class="facts">`). */
export function StandingFacts(props: { standing: TaskStanding }) {
  return (
    <Show when={props.standing.waitReason}>
      {(reason) => (
        <>
          <dt>Waiting</dt>
          <dd data-testid="wait-reason" data-wait-reason={reason()}>
            {waitReasonText(reason())}
          </dd>
          <Show when={props.standing.queuePosition !== null}>
            <dt>Position</dt>
            <dd data-testid="queue-position" data-position={props.standing.queuePosition}>
              {positionText(props.standing.queuePosition!)}
            </dd>
          </Show>
          <Show when={props.standing.estimatedStartAt}>
            {(at) => (
              <>
                <dt>Expected start</dt>
                <dd data-testid="estimated-start" title="From its position and how fast tasks started lately">
                  <Countdown at={at()} due="any moment" /> <span class="muted small">(estimate)</span>
                </dd>
              </>
            )}
          </Show>
        </>
      )}
    </Show>
  );
}

/** The standing in a list row, compactly ("3 ahead · queued"), with the whole of it in the title. */
export function StandingNote(props: { standing: TaskStanding | undefined }) {
  const position = () => props.standing?.queuePosition ?? null;
  const title = (reason: NonNullable<TaskStanding['waitReason']>) =>
    [
      waitReasonText(reason),
      position() === null ? null : positionText(position()!),
      props.standing?.estimatedStartAt ? `expected to start around ${formatTime(props.standing.estimatedStartAt)}` : null,
    ]
      .filter(Boolean)
      .join(' · ');
  return (
    <Show when={props.standing?.waitReason}>
      {(reason) => (
        <span class="standing" data-testid="standing" data-wait-reason={reason()} data-position={position() ?? ''} title={title(reason())}>
          {position() === null ? '' : `${positionShort(position()!)} · `}
          {waitReasonShort(reason())}
        </span>
      )}
    </Show>
  );
}

/** A small tag for a task that is not NORMAL priority (NORMAL, the default, says nothing). */
export function PriorityTag(props: { priority: TaskPriority }) {
  return (
    <Show when={props.priority !== 'NORMAL'}>
      <span class={`priority priority-${props.priority.toLowerCase()}`} data-testid="priority-tag" title={`${priorityLabel(props.priority)} priority`}>
        {priorityLabel(props.priority).toLowerCase()}
      </span>
    </Show>
  );
}
