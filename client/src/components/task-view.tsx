import { For, Show } from 'solid-js';
import { priorityLabel } from '../dispatch-labels.ts';
import { formatDuration, formatTime, percent, traceUrlOf } from '../format.ts';
import { createTask } from '../primitives/create-task.ts';
import { createTaskOutput } from '../primitives/create-task-output.ts';
import { attemptLabel } from '../primitives/output-merge.ts';
import { chainPlaceLabel, modelChanges, switchReasonShort, switchReasonText } from '../model-labels.ts';
import { onLinkClick } from '../router.ts';
import { isWriting } from '../task-states.ts';
import { ProgressBar } from './progress-bar.tsx';
import { StateBadge } from './state-badge.tsx';
import { Countdown } from './countdown.tsx';
import { TaskActions } from './task-actions.tsx';
import { StandingFacts } from './task-standing.tsx';
import { TaskUsageFacts } from './task-usage.tsx';
import { UsageCallsTable } from './usage-calls.tsx';

/**
 * One task, live. While it waits, why, how many tasks start first and when it should start.
 * While the task may still write, its output grows in place of the result,
 * with the attempt writing it; once COMPLETED the result is shown as before. Input, output and
 * result are rendered as text, never as HTML.
 */
export function TaskView(props: { id: string; canWrite?: boolean; traceUrlTemplate?: string | null }) {
  const live = createTask(() => props.id);
  const output = createTaskOutput({
    id: () => props.id,
    live: () => {
      const task = live.task();
      return task !== undefined && task.id === props.id && isWriting(task.state);
    },
  });
  return (
    <section class="card task-view" aria-labelledby="task-heading">
      <p>
        <a href="/tasks" onClick={onLinkClick}>
          ← All tasks
        </a>
      </p>
      <Show when={live.error()}>
        <p class="error" role="alert">
          {live.error()}
        </p>
      </Show>
      <Show when={live.task()} fallback={<Show when={!live.error()}><p class="muted">Loading…</p></Show>}>
        {(task) => (
          <>
            <header class="task-header">
              <h2 id="task-heading" class="mono">
                {task().id}
              </h2>
              <StateBadge state={task().state} />
            </header>
            <Show when={props.canWrite !== false}>
              <TaskActions id={task().id} state={task().state} />
            </Show>
            <ProgressBar progress={task().progress} label="task progress" />
            <dl class="facts">
              <dt>Progress</dt>
              <dd>{percent(task().progress)}</dd>
              <dt>Version</dt>
              <dd data-testid="version">{task().version}</dd>
              <dt>Retries</dt>
              <dd>
                {task().retryCount} of {task().maxRetries}
              </dd>
              <dt>Priority</dt>
              <dd data-testid="priority">{priorityLabel(task().priority)}</dd>
              <dt>Created</dt>
              <dd>{formatTime(task().createdAt)}</dd>
              {/* Live without a new version: see createTask. */}
              <StandingFacts standing={task()} />
              <dt>Took</dt>
              <dd>{formatDuration(task().startedAt, task().completedAt)}</dd>
              <Show when={task().state === 'SCHEDULED' && task().nextAttemptAt}>
                {(at) => (
                  <>
                    <dt>Next attempt</dt>
                    <dd>
                      <Countdown at={at()} />
                    </dd>
                  </>
                )}
              </Show>
              <Show when={task().workerId}>
                <dt>Worker</dt>
                <dd class="mono">{task().workerId}</dd>
              </Show>
              <Show when={task().usage}>{(usage) => <TaskUsageFacts usage={usage()} />}</Show>
              <Show when={task().traceId}>
                {(traceId) => (
                  <>
                    <dt>Trace</dt>
                    <dd class="mono" data-testid="trace">
                      <Show when={props.traceUrlTemplate} fallback={traceId()}>
                        {(template) => (
                          <a href={traceUrlOf(template(), { traceId: traceId(), taskId: task().id })} target="_blank" rel="noopener">
                            {traceId()} ↗
                          </a>
                        )}
                      </Show>
                    </dd>
                  </>
                )}
              </Show>
            </dl>

            {/* One paragraph for the whole stream: a chunk or a reset changes its text, never the element. */}
            <Show
              when={task().state !== 'COMPLETED' && output.attempt()}
              fallback={
                <>
                  <h3>Result</h3>
                  <Show when={task().result} fallback={<p class="muted">No result yet.</p>}>
                    <p class="result" data-testid="result">
                      {task().result}
                    </p>
                  </Show>
                </>
              }
            >
              {(attempt) => (
                <>
                  <h3>
                    Output ·{' '}
                    <span class="muted small" data-testid="output-attempt" aria-live="polite">
                      {attemptLabel(attempt(), task().state, task().errors.map((error) => error.attempt))}
                      {/* The attempt's first chunk names its model: a switch shows the new one as the text starts over. */}
                      <Show when={output.model()}>
                        {(model) => (
                          <>
                            {' '}
                            on <span class="mono" data-testid="output-model">{model()}</span>
                          </>
                        )}
                      </Show>
                    </span>
                  </h3>
                  <p class="result" data-testid="output">
                    {output.text()}
                  </p>
                </>
              )}
            </Show>
            <Show when={isWriting(task().state) && output.error()}>
              <p class="muted small" data-testid="output-error">
                Live output unavailable: {output.error()}
              </p>
            </Show>

            <Show when={task().errors.length > 0}>
              <h3>Attempts that failed</h3>
              <div class="table-scroll">
                <table class="data-table attempts" data-testid="attempts">
                  <thead>
                    <tr>
                      <th scope="col">Attempt</th>
                      <th scope="col">Error class</th>
                      <th scope="col">HTTP</th>
                      <th scope="col">Message</th>
                      <th scope="col">At</th>
                      <th scope="col">Next retry</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={task().errors}>
                      {(error) => (
                        <tr data-error-class={error.errorClass}>
                          <td>{error.attempt}</td>
                          <td>
                            <strong>{error.errorClass}</strong>
                          </td>
                          <td>{error.httpStatus ?? '—'}</td>
                          <td class="message">{error.message}</td>
                          <td>{formatTime(error.at)}</td>
                          <td>
                            <Show when={error.nextAttemptAt} fallback="—">
                              {(at) => (
                                <>
                                  {formatTime(at())}{' '}
                                  <Show when={task().state === 'SCHEDULED' && task().nextAttemptAt === at()}>
                                    (<Countdown at={at()} />)
                                  </Show>
                                </>
                              )}
                            </Show>
                          </td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </Show>

            <Show when={(task().usage?.perCall.length ?? 0) > 0}>
              <h3>Provider calls</h3>
              <UsageCallsTable calls={task().usage?.perCall ?? []} />
            </Show>

            <h3>Timeline</h3>
            <ol class="timeline">
              <For each={task().history}>
                {(step, index) => (
                  <li data-model={step.model ?? undefined}>
                    <StateBadge state={step.state} /> <time class="muted" datetime={step.at}>{formatTime(step.at)}</time>
                    <Show when={step.reason}> · {step.reason}</Show>
                    {/* The model that answered the attempt this step ends; its chain place when it is another model than before. */}
                    <Show when={step.model}>
                      {(model) => (
                        <>
                          {' '}
                          · <span class="mono" data-testid="step-model">{model()}</span>
                          <Show when={modelChanges(task().history)[index()] && step.chainIndex !== null && step.chainIndex !== undefined}>
                            {' '}
                            <span class="muted" data-testid="step-chain">
                              ({chainPlaceLabel(step.chainIndex ?? 0)})
                            </span>
                          </Show>
                        </>
                      )}
                    </Show>
                    <Show when={step.switchReason}>
                      {(reason) => (
                        <>
                          {' '}
                          ·{' '}
                          <span class="switch" data-testid="step-switch" title={switchReasonText(reason())}>
                            next model: {switchReasonShort(reason())}
                          </span>
                        </>
                      )}
                    </Show>
                    <Show when={step.workerId}>
                      {' '}
                      · <span class="mono">{step.workerId}</span>
                    </Show>
                  </li>
                )}
              </For>
            </ol>

            <h3>Input</h3>
            <pre class="content">{task().content}</pre>
          </>
        )}
      </Show>
    </section>
  );
}
