import { For, Show, type Accessor } from 'solid-js';
import { formatTime, shortId } from '../format.ts';
import type { TaskSummary } from '../primitives/create-recent-tasks.ts';
import { onLinkClick } from '../router.ts';
import type { ListStanding } from '../primitives/create-standings.ts';
import { OutputTailRow } from './output-tail.tsx';
import { ProgressBar } from './progress-bar.tsx';
import { StateBadge } from './state-badge.tsx';
import { PriorityTag, StandingNote } from './task-standing.tsx';

/**
 * The recent tasks. A task listed in `outputTails` gets a row under its own with the tail of
 * its output, live; a waiting one says where it stands beside its state (`standing`).
 */
export function TaskList(props: {
  tasks: Accessor<TaskSummary[]>;
  outputTails?: Accessor<readonly string[]>;
  standing?: (id: string) => ListStanding | undefined;
  loading: boolean;
  error: string | null;
}) {
  return (
    <section class="card" aria-labelledby="recent-heading">
      <h2 id="recent-heading">Recent tasks</h2>
      <Show when={props.error}>
        <p class="error" role="alert">
          {props.error}
        </p>
      </Show>
      <Show when={!props.loading} fallback={<p class="muted">Loading…</p>}>
        <Show when={props.tasks().length > 0} fallback={<p class="muted">No tasks yet. Submit some text to start.</p>}>
          <table class="task-table">
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">State</th>
                <th scope="col">Progress</th>
                <th scope="col">Retries</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              <For each={props.tasks()}>
                {(task) => (
                  <>
                    <tr data-task-id={task.id} data-state={task.state}>
                      <td>
                        <a href={`/tasks/${task.id}`} onClick={onLinkClick} class="mono">
                          {shortId(task.id)}
                        </a>{' '}
                        <PriorityTag priority={task.priority} />
                      </td>
                      <td>
                        <StateBadge state={task.state} /> <StandingNote standing={props.standing?.(task.id)} />
                      </td>
                      <td>
                        <ProgressBar progress={task.progress} label={`progress of task ${shortId(task.id)}`} />
                      </td>
                      <td>
                        {task.retryCount}/{task.maxRetries}
                      </td>
                      <td>{formatTime(task.createdAt)}</td>
                    </tr>
                    <Show when={props.outputTails?.().includes(task.id)}>
                      <OutputTailRow id={task.id} columns={5} />
                    </Show>
                  </>
                )}
              </For>
            </tbody>
          </table>
        </Show>
      </Show>
    </section>
  );
}
