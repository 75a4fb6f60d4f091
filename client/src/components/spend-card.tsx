/**
 * The dashboard's Spend card: cost per UTC day over the last 7 (or 30) days, stacked by tenant
 * or by model; the budgets as bars (an admin sets and removes them here); and spend by tenant
 * and model over the range. Read again when the task feed says spend may have moved
 * (create-spend.ts), or on Refresh. A tenant's key sees its own tenant only, by model.
 */
import { createMemo, createSignal, For, Show } from 'solid-js';
import { formatTime } from '../format.ts';
import { createSpend } from '../primitives/create-spend.ts';
import type { FrameScheduler } from '../primitives/frame-batcher.ts';
import { formatCount, formatUsd, SPEND_RANGE_DAYS, spendByDay, spendTable, type SpendDimension, type SpendRangeDays } from '../spend-model.ts';
import { BudgetBars } from './budget-bars.tsx';
import { StackedBarChart } from './stacked-bar-chart.tsx';

/** Series drawn one by one; past these the rest add up into "other". */
const MAX_SERIES = 5;

const dayLabel = (day: string) => new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });

export function SpendCard(props: { admin: boolean; minIntervalMs?: number; schedule?: FrameScheduler }) {
  const [days, setDays] = createSignal<SpendRangeDays>(7);
  const [chosen, setDimension] = createSignal<SpendDimension>('tenant');
  // A tenant's key sees one tenant: per model is the only split that says anything.
  const dimension = () => (props.admin ? chosen() : 'model');
  const spend = createSpend({ days, minIntervalMs: props.minIntervalMs, schedule: props.schedule });

  const series = createMemo(() =>
    spendByDay(spend.rows(), dimension(), spend.range().days, MAX_SERIES).map((s, i) => ({
      name: s.name,
      values: s.values,
      legend: formatUsd(s.total),
      className: s.rest ? 'spend-series-other' : `spend-series-${i}`,
    })),
  );
  const table = createMemo(() => spendTable(spend.rows()));
  const tenants = createMemo(() => [...new Set([...spend.rows().map((row) => row.tenant ?? ''), ...spend.budgets().map((b) => b.tenant)])].filter(Boolean).sort());

  return (
    <section class="card spend-card" aria-labelledby="spend-heading" data-testid="spend-card">
      <div class="card-head">
        <h2 id="spend-heading">Spend</h2>
        <div class="actions">
          <div class="segmented" role="radiogroup" aria-label="Range">
            <For each={SPEND_RANGE_DAYS}>
              {(n) => (
                <button type="button" role="radio" aria-checked={days() === n} classList={{ selected: days() === n }} onClick={() => setDays(n)}>
                  {n} days
                </button>
              )}
            </For>
          </div>
          <Show when={props.admin}>
            <div class="segmented" role="radiogroup" aria-label="Split by">
              <For each={['tenant', 'model'] as const}>
                {(d) => (
                  <button type="button" role="radio" aria-checked={chosen() === d} classList={{ selected: chosen() === d }} onClick={() => setDimension(d)}>
                    by {d}
                  </button>
                )}
              </For>
            </div>
          </Show>
          <button type="button" class="secondary small-button" onClick={() => spend.refresh()} disabled={spend.reading()} data-testid="spend-refresh">
            Refresh
          </button>
        </div>
      </div>
      <Show when={spend.error()}>
        <p class="error" role="alert">
          {spend.error()}
        </p>
      </Show>
      <Show when={!spend.loading()} fallback={<p class="muted">Loading…</p>}>
        <div class="spend-grid">
          <div class="spend-main">
            <StackedBarChart
              title={`Cost per day by ${dimension()}, last ${days()} days (UTC)`}
              labels={spend.range().days.map(dayLabel)}
              lastLabel="today"
              series={series()}
              format={formatUsd}
              empty="nothing spent"
            />
            <h3>
              By tenant and model, last {days()} days{' '}
              <span class="muted small" data-testid="spend-read-at">
                <Show when={spend.readAt()}>{(at) => <>· read {formatTime(new Date(at()).toISOString())}</>}</Show>
              </span>
            </h3>
            <Show when={table().lines.length > 0} fallback={<p class="muted small">No provider call was billed in this range.</p>}>
              <div class="table-scroll">
                <table class="data-table spend-table" data-testid="spend-table">
                  <thead>
                    <tr>
                      <Show when={props.admin}>
                        <th scope="col">Tenant</th>
                      </Show>
                      <th scope="col">Model</th>
                      <th scope="col" class="num" title="Tasks whose first billed call fell in the range, counted with that call's model">
                        Tasks
                      </th>
                      <th scope="col" class="num">Calls</th>
                      <th scope="col" class="num">Tokens in / out</th>
                      <th scope="col" class="num">Cost</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={table().lines}>
                      {(line) => (
                        <tr data-tenant={line.tenant} data-model={line.model}>
                          <Show when={props.admin}>
                            <td>{line.tenant}</td>
                          </Show>
                          <td class="mono">{line.model}</td>
                          <td class="num">{formatCount(line.tasks)}</td>
                          <td class="num">{formatCount(line.calls)}</td>
                          <td class="num">
                            {formatCount(line.promptTokens)} / {formatCount(line.completionTokens)}
                          </td>
                          <td class="num" data-testid="line-cost">
                            {formatUsd(line.costUsd)}
                          </td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                  <tfoot>
                    <tr>
                      <th scope="row" colSpan={props.admin ? 2 : 1}>
                        Total
                      </th>
                      <td class="num">{formatCount(table().total.tasks)}</td>
                      <td class="num">{formatCount(table().total.calls)}</td>
                      <td class="num">
                        {formatCount(table().total.promptTokens)} / {formatCount(table().total.completionTokens)}
                      </td>
                      <td class="num" data-testid="spend-total">
                        <strong>{formatUsd(table().total.costUsd)}</strong>
                      </td>
                    </tr>
                  </tfoot>
                </table>
              </div>
            </Show>
          </div>
          <BudgetBars budgets={spend.budgets()} admin={props.admin} tenants={tenants()} onChanged={() => spend.refresh()} />
        </div>
      </Show>
    </section>
  );
}
