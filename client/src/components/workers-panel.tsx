/**
 * Workers as their heartbeats report them: heartbeat age (ticking), concurrency, running
 * tasks, circuit breaker; admins can close (reset) or force open every breaker (the model
 * breakers too).
 */
import { createMutation } from '@urql/solid';
import { createSignal, For, Show } from 'solid-js';
import type { WorkerFieldsFragment } from '../gql/graphql.ts';
import { OpenCircuitBreakersMutation, ResetCircuitBreakersMutation } from '../graphql/breakers.ts';
import { errorMessage, formatSpan } from '../format.ts';
import { createNow } from '../primitives/create-now.ts';
import { Countdown } from './countdown.tsx';

export function WorkersPanel(props: { workers: readonly WorkerFieldsFragment[] | undefined; admin: boolean }) {
  const now = createNow();
  const [resetState, reset] = createMutation(ResetCircuitBreakersMutation);
  const [openState, open] = createMutation(OpenCircuitBreakersMutation);
  const [error, setError] = createSignal<string | null>(null);
  const busy = () => resetState.fetching || openState.fetching;

  const run = async (action: 'reset' | 'open') => {
    if (action === 'open' && !window.confirm("Force every circuit breaker open, every worker's and every model's? Workers stop calling the provider until a reset.")) return;
    setError(null);
    const result = action === 'reset' ? await reset({}) : await open({});
    // The new breaker states arrive over workersUpdated.
    if (result.error) setError(errorMessage(result.error));
  };

  return (
    <section class="card workers-card" aria-labelledby="workers-heading">
      <div class="card-head">
        <h2 id="workers-heading">Workers</h2>
        <Show when={props.admin}>
          <div class="actions" role="group" aria-label="Circuit breakers">
            <button type="button" disabled={busy()} onClick={() => void run('reset')} data-testid="reset-breakers">
              Reset breakers
            </button>
            <button type="button" class="secondary" disabled={busy()} onClick={() => void run('open')} data-testid="open-breakers">
              Open breakers
            </button>
          </div>
        </Show>
      </div>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={props.workers} fallback={<p class="muted">Loading…</p>}>
        {(workers) => (
          <Show when={workers().length > 0} fallback={<p class="muted">No worker has reported in recently.</p>}>
            <div class="table-scroll">
              <table class="data-table workers-table">
                <thead>
                  <tr>
                    <th scope="col">Worker</th>
                    <th scope="col">Heartbeat</th>
                    <th scope="col">Running</th>
                    <th scope="col">Breaker</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={workers()}>
                    {(worker) => (
                      <tr data-worker-id={worker.id} data-circuit={worker.circuit.state} classList={{ 'worker-dead': !worker.alive }}>
                        <td class="mono">{worker.id}</td>
                        <td>
                          <span class={worker.alive ? '' : 'error'}>{formatSpan(now() - new Date(worker.lastHeartbeatAt).getTime())} ago</span>
                          <Show when={!worker.alive}> (gone)</Show>
                        </td>
                        <td>
                          <meter min={0} max={worker.concurrency} value={worker.activeTasks} aria-label={`running tasks of ${worker.id}`} />{' '}
                          {worker.activeTasks}/{worker.concurrency}
                        </td>
                        <td>
                          <span class={`breaker breaker-${worker.circuit.state.toLowerCase()}`}>{worker.circuit.state}</span>
                          <Show when={worker.circuit.failures > 0}>
                            <span class="muted"> · {worker.circuit.failures} failures</span>
                          </Show>
                          <Show when={worker.circuit.state === 'OPEN' && worker.circuit.halfOpenAt}>
                            {(at) => (
                              <span class="muted">
                                {' '}
                                · probe <Countdown at={at()} />
                              </span>
                            )}
                          </Show>
                          <Show when={worker.circuit.state === 'OPEN' && !worker.circuit.halfOpenAt}>
                            <span class="muted"> · forced open</span>
                          </Show>
                        </td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          </Show>
        )}
      </Show>
    </section>
  );
}
