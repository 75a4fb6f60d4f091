/**
 * Budgets as bars: what each tenant spent this period and what its running calls hold, against
 * its limit, with when the period starts over. An admin may remove a budget here, and set one
 * with the form below the bars (`setBudget`, audited by the server).
 */
import { createMutation } from '@urql/solid';
import { createSignal, For, Show } from 'solid-js';
import { errorMessage, formatMinute, percent } from '../format.ts';
import type { BudgetPeriod } from '../gql/graphql.ts';
import { SetBudgetMutation } from '../graphql/usage.ts';
import { budgetFill, formatUsd, type Budget } from '../spend-model.ts';
import { Countdown } from './countdown.tsx';

const PERIOD_LABEL = { DAY: 'daily', MONTH: 'monthly' } as const satisfies Record<BudgetPeriod, string>;
const PERIODS = Object.keys(PERIOD_LABEL) as BudgetPeriod[];
const periodLabel = (period: BudgetPeriod) => PERIOD_LABEL[period] ?? period.toLowerCase();

const share = (fraction: number) => `${Math.min(100, Math.max(0, fraction * 100)).toFixed(2)}%`;

/** One budget: a bar of spent then held against the limit, the figures, and the reset. */
export function BudgetBar(props: { budget: Budget; onRemove?: () => void; busy?: boolean }) {
  const fill = () => budgetFill(props.budget);
  const used = () => (Number.isFinite(fill().used) ? percent(fill().used) : 'limit 0');
  const name = () => `${props.budget.tenant} ${periodLabel(props.budget.period)} budget`;
  return (
    <li class={`budget budget-${fill().state}`} data-budget={`${props.budget.tenant}:${props.budget.period}`} data-state={fill().state}>
      <div class="budget-head">
        <span>
          <strong>{props.budget.tenant}</strong> <span class="muted">· {periodLabel(props.budget.period)}</span>
        </span>
        <Show when={props.onRemove}>
          {(remove) => (
            <button type="button" class="link" disabled={props.busy} onClick={() => remove()()} aria-label={`Remove the ${name()}`}>
              Remove
            </button>
          )}
        </Show>
      </div>
      <div
        class="budget-bar"
        role="meter"
        aria-label={name()}
        aria-valuemin={0}
        aria-valuemax={props.budget.limitUsd}
        aria-valuenow={props.budget.spentUsd + props.budget.reservedUsd}
        aria-valuetext={`${formatUsd(props.budget.spentUsd)} spent, ${formatUsd(props.budget.reservedUsd)} held, of ${formatUsd(props.budget.limitUsd)}`}
      >
        <div class="budget-spent" style={{ width: share(fill().spent) }} />
        <div class="budget-reserved" style={{ width: share(fill().reserved) }} />
        <Show when={fill().limitAt < 1}>
          <div class="budget-limit" style={{ left: share(fill().limitAt) }} title={`limit ${formatUsd(props.budget.limitUsd)}`} />
        </Show>
      </div>
      <div class="budget-foot small">
        <span class="budget-figures" data-testid="budget-figures">
          {formatUsd(props.budget.spentUsd)}
          <Show when={props.budget.reservedUsd > 0}>
            <span class="muted"> + {formatUsd(props.budget.reservedUsd)} held</span>
          </Show>{' '}
          of {formatUsd(props.budget.limitUsd)} <span class="muted">({used()})</span>
        </span>
        <span class="muted" data-testid="budget-resets">
          Resets <time datetime={props.budget.resetsAt}>{formatMinute(props.budget.resetsAt)}</time> (<Countdown at={props.budget.resetsAt} />)
        </span>
      </div>
      <Show when={fill().state === 'reached'}>
        <p class="error-text small budget-note">Reached: new tasks are refused, queued ones wait.</p>
      </Show>
    </li>
  );
}

/**
 * The budgets the caller may see. `admin` adds the remove buttons and the form; `tenants`
 * are offered in the form's tenant field; `onChanged` runs after a budget was set or removed.
 */
export function BudgetBars(props: { budgets: readonly Budget[]; admin: boolean; tenants: readonly string[]; onChanged: () => void }) {
  const [state, setBudget] = createMutation(SetBudgetMutation);
  const [error, setError] = createSignal<string | null>(null);
  const [done, setDone] = createSignal<string | null>(null);
  const [tenant, setTenant] = createSignal('');
  const [period, setPeriod] = createSignal<BudgetPeriod>('DAY');
  const [limit, setLimit] = createSignal('');

  const send = async (variables: { tenant: string; period: BudgetPeriod; limitUsd: number | null }, said: string) => {
    setError(null);
    setDone(null);
    const result = await setBudget(variables);
    if (result.error) {
      setError(errorMessage(result.error));
      return false;
    }
    setDone(said);
    props.onChanged();
    return true;
  };

  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const limitUsd = Number(limit());
    if (limit().trim() === '' || !Number.isFinite(limitUsd) || limitUsd < 0) {
      setError('The limit is an amount in dollars, 0 or more.');
      return;
    }
    const name = tenant().trim();
    if (await send({ tenant: name, period: period(), limitUsd }, `The ${periodLabel(period())} budget of ${name} is now ${formatUsd(limitUsd)}.`)) setLimit('');
  };

  const remove = (budget: Budget) => {
    if (!window.confirm(`Remove the ${periodLabel(budget.period)} budget of ${budget.tenant}? Its spend is no longer limited.`)) return;
    void send({ tenant: budget.tenant, period: budget.period, limitUsd: null }, `The ${periodLabel(budget.period)} budget of ${budget.tenant} was removed.`);
  };

  return (
    <section class="budgets" aria-labelledby="budgets-heading">
      <h3 id="budgets-heading">Budgets</h3>
      <Show
        when={props.budgets.length > 0}
        fallback={<p class="muted small">{props.admin ? 'No budget is set: spend is not limited.' : 'No budget is set for this tenant.'}</p>}
      >
        <ul class="budget-list" data-testid="budgets">
          <For each={props.budgets}>
            {(budget) => <BudgetBar budget={budget} busy={state.fetching} onRemove={props.admin ? () => remove(budget) : undefined} />}
          </For>
        </ul>
      </Show>
      <Show when={props.admin}>
        <form class="budget-form" onSubmit={onSubmit} aria-label="Set a budget">
          <label>
            Tenant
            <input required list="budget-tenants" value={tenant()} onInput={(event) => setTenant(event.currentTarget.value)} name="tenant" autocomplete="off" />
          </label>
          <datalist id="budget-tenants">
            <For each={props.tenants}>{(name) => <option value={name} />}</For>
          </datalist>
          <label>
            Period
            <select name="period" value={period()} onChange={(event) => setPeriod(event.currentTarget.value as BudgetPeriod)}>
              <For each={PERIODS}>{(p) => <option value={p}>{PERIOD_LABEL[p]}</option>}</For>
            </select>
          </label>
          <label>
            Limit ($)
            <input required name="limitUsd" type="number" min="0" step="any" inputmode="decimal" value={limit()} onInput={(event) => setLimit(event.currentTarget.value)} />
          </label>
          <button type="submit" disabled={state.fetching}>
            Set budget
          </button>
        </form>
      </Show>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={done()}>
        <p class="muted small" role="status">
          {done()}
        </p>
      </Show>
    </section>
  );
}
