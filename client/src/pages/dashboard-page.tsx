/**
 * The operations dashboard, live through subscriptions only: the state-flow diagram (counts
 * from queueStatusUpdated, edges from taskFlowUpdated), depth and throughput per minute,
 * the workers with their breakers, the model breakers, and the provider. Queue-wide views need the admin scope.
 * Spend and budgets (spend-card.tsx) are sums read on request, again whenever the task feed
 * says spend may have moved; a tenant's key sees its own.
 */
import { createMemo, createSignal, For, Show } from 'solid-js';
import { FlowDiagram } from '../components/flow-diagram.tsx';
import { LineChart } from '../components/line-chart.tsx';
import { ProviderBadge } from '../components/provider-badge.tsx';
import { SpendCard } from '../components/spend-card.tsx';
import { WorkersPanel } from '../components/workers-panel.tsx';
import { ModelsPanel } from '../components/models-panel.tsx';
import { edgeTotals, minuteSeries } from '../flow-model.ts';
import type { TaskState } from '../gql/graphql.ts';
import { ModelsSubscription, ProviderStatusSubscription, WorkersSubscription } from '../graphql/breakers.ts';
import { QueueStatusSubscription, TaskFlowSubscription } from '../graphql/operations.ts';
import { createLiveValue } from '../primitives/create-live-value.ts';

const CHART_MINUTES = 15;
const EDGE_WINDOWS = [1, 5, 15];

export function DashboardPage(props: { admin: boolean; canRead?: boolean }) {
  const notAdmin = () => !props.admin;
  const queue = createLiveValue(QueueStatusSubscription, (data) => data.queueStatusUpdated, { pause: notAdmin });
  const flow = createLiveValue(TaskFlowSubscription, (data) => data.taskFlowUpdated, { variables: { minutes: CHART_MINUTES }, pause: notAdmin });
  const liveWorkers = createLiveValue(WorkersSubscription, (data) => data.workersUpdated, { pause: notAdmin });
  const models = createLiveValue(ModelsSubscription, (data) => data.modelsUpdated, { pause: notAdmin });
  const provider = createLiveValue(ProviderStatusSubscription, (data) => data.providerStatusUpdated);
  // The breaker buttons' answers are not kept: the live list is the one truth (urql keeps
  // subscription data in a store updated in place, so there is no "newer object" to compare).
  const workers = () => liveWorkers.value();
  const [edgeMinutes, setEdgeMinutes] = createSignal(5);

  const counts = createMemo(() => Object.fromEntries((queue.value()?.states ?? []).map((s) => [s.state, s.count])) as Partial<Record<TaskState, number>>);
  const edges = createMemo(() => edgeTotals(flow.value()?.buckets ?? [], edgeMinutes()));
  const series = createMemo(() => minuteSeries(flow.value()?.buckets ?? [], counts()));
  const starts = () => series().map((p) => p.start);
  const total = () => Object.values(counts()).reduce((sum, n) => sum + (n ?? 0), 0);

  return (
    <div class="dashboard">
      <section class="card provider-card" aria-label="Provider">
        <ProviderBadge status={provider.value()} />
      </section>
      <Show
        when={props.admin}
        fallback={
          <section class="card admin-note">
            <p class="muted">Queue-wide views (states, flow, workers, model breakers) need a key with the admin scope.</p>
          </section>
        }
      >
        <section class="card flow-card" aria-labelledby="flow-heading">
          <div class="card-head">
            <h2 id="flow-heading">Task flow</h2>
            <div class="segmented" role="radiogroup" aria-label="Edges count the last">
              <For each={EDGE_WINDOWS}>
                {(minutes) => (
                  <button type="button" role="radio" aria-checked={edgeMinutes() === minutes} classList={{ selected: edgeMinutes() === minutes }} onClick={() => setEdgeMinutes(minutes)}>
                    {minutes} min
                  </button>
                )}
              </For>
            </div>
          </div>
          <Show when={queue.error() ?? flow.error()}>
            <p class="error" role="alert">
              {queue.error() ?? flow.error()}
            </p>
          </Show>
          <FlowDiagram counts={counts()} edges={edges()} minutes={edgeMinutes()} />
          <p class="muted small">
            {total()} tasks · queues: {queue.value()?.primary ?? 0} new, {queue.value()?.retry ?? 0} retries waiting · retry share{' '}
            {Math.round((queue.value()?.retryRatio ?? 0) * 100)}% · edges count the last {edgeMinutes()} min
          </p>
        </section>
        <section class="card charts" aria-label="Last minutes">
          <LineChart
            title={`Queue depth, last ${CHART_MINUTES} min`}
            unit="tasks"
            starts={starts()}
            series={[
              { name: 'waiting', className: 'series-waiting', values: series().map((p) => p.waiting) },
              { name: 'active', className: 'series-active', values: series().map((p) => p.active) },
            ]}
          />
          <LineChart
            title="Throughput per minute"
            unit="tasks per minute"
            starts={starts()}
            series={[
              { name: 'submitted', className: 'series-submitted', values: series().map((p) => p.submitted) },
              { name: 'completed', className: 'series-completed', values: series().map((p) => p.completed) },
              { name: 'retried', className: 'series-retried', values: series().map((p) => p.retried) },
              { name: 'to DLQ', className: 'series-failed', values: series().map((p) => p.failed) },
            ]}
          />
        </section>
        <WorkersPanel workers={workers()} admin={props.admin} />
        <ModelsPanel models={models.value()} />
      </Show>
      {/* Spend is read with the tasks:read scope, like the task feed it follows. */}
      <Show when={props.canRead !== false}>
        <SpendCard admin={props.admin} />
      </Show>
    </div>
  );
}
