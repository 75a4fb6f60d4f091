/**
 * The model breakers every worker shares: each model's state (a countdown to its probe while
 * open), and its calls and failure rate over the window. The breaker buttons of the workers
 * panel act on these too.
 */
import { For, Show } from 'solid-js';
import type { ModelsUpdatedSubscription } from '../gql/graphql.ts';
import { Countdown } from './countdown.tsx';

type ModelStatus = ModelsUpdatedSubscription['modelsUpdated'][number];

export function ModelsPanel(props: { models: readonly ModelStatus[] | undefined }) {
  return (
    <section class="card models-card" aria-labelledby="models-heading">
      <div class="card-head">
        <h2 id="models-heading">Model breakers</h2>
      </div>
      <Show when={props.models} fallback={<p class="muted">Loading…</p>}>
        {(models) => (
          <div class="table-scroll">
            <table class="data-table models-table">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Breaker</th>
                  <th scope="col">Recent calls</th>
                  <th scope="col">Failing</th>
                </tr>
              </thead>
              <tbody>
                <For each={models()}>
                  {(model) => (
                    <tr data-model={model.model} data-circuit={model.state}>
                      <td class="mono">
                        {model.model}
                        <Show when={!model.configured}>
                          <span class="muted"> (not in the chain)</span>
                        </Show>
                      </td>
                      <td>
                        <span class={`breaker breaker-${model.state.toLowerCase()}`}>{model.state}</span>
                        <Show when={model.state === 'OPEN' && model.halfOpenAt}>
                          {(at) => (
                            <span class="muted">
                              {' '}
                              · probe <Countdown at={at()} />
                            </span>
                          )}
                        </Show>
                        <Show when={model.state === 'OPEN' && !model.halfOpenAt}>
                          <span class="muted"> · forced open</span>
                        </Show>
                      </td>
                      <td>{model.calls}</td>
                      <td>
                        {Math.round(model.failureRate * 100)}%<span class="muted"> ({model.failures})</span>
                      </td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </div>
        )}
      </Show>
    </section>
  );
}
