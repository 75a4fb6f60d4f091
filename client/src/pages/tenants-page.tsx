/**
 * How tenants share the workers (docs/dispatch.md): each tenant's weight, cap and pause, what it
 * runs and what waits, and its share of the starts and of the tokens over the last 5, 15 or 60
 * minutes. Read again when the task feed says the counts may have moved (create-tenants.ts). An
 * admin sees every tenant with a policy or work and changes a policy here (setTenantPolicy,
 * audited); a tenant's key sees its own row and no controls.
 */
import { createMutation } from '@urql/solid';
import { createMemo, createSignal, For, Show } from 'solid-js';
import { TenantPolicyForm } from '../components/tenant-policy-form.tsx';
import { formatTime } from '../format.ts';
import type { TenantPolicyInput } from '../gql/graphql.ts';
import { SetTenantPolicyMutation } from '../graphql/dispatch.ts';
import { createTenants } from '../primitives/create-tenants.ts';
import type { FrameScheduler } from '../primitives/frame-batcher.ts';
import { formatCount } from '../spend-model.ts';
import { ACTIVITY_MINUTES, formatShare, policyProblemOf, type ActivityMinutes, type PolicyProblem, type TenantRow } from '../tenants-model.ts';

/** A share as a bar with its figure: "62% · 31". */
function ShareBar(props: { share: number; count: number; label: string }) {
  return (
    <div class="share">
      <div class="share-bar" role="meter" aria-label={props.label} aria-valuemin={0} aria-valuemax={1} aria-valuenow={props.share} aria-valuetext={formatShare(props.share)}>
        <div class="share-fill" style={{ width: formatShare(props.share) }} />
      </div>
      <span class="share-figure">
        {formatShare(props.share)} <span class="muted">· {formatCount(props.count)}</span>
      </span>
    </div>
  );
}

/** The Tenants page; `admin` adds the pause buttons and the policy form. */
export function TenantsPage(props: { admin: boolean; minIntervalMs?: number; schedule?: FrameScheduler }) {
  const [minutes, setMinutes] = createSignal<ActivityMinutes>(15);
  const tenants = createTenants({ minutes, minIntervalMs: props.minIntervalMs, schedule: props.schedule });
  const [change, setPolicy] = createMutation(SetTenantPolicyMutation);
  const [problem, setProblem] = createSignal<PolicyProblem | null>(null);
  const [done, setDone] = createSignal<string | null>(null);
  const [editing, setEditing] = createSignal<TenantRow | null>(null, { equals: false });
  const totals = createMemo(() => tenants.rows().reduce((sum, row) => ({ starts: sum.starts + row.starts, tokens: sum.tokens + row.tokens }), { starts: 0, tokens: 0 }));

  const save = async (tenant: string, input: TenantPolicyInput, said: string): Promise<boolean> => {
    setProblem(null);
    setDone(null);
    const result = await setPolicy({ tenant, input });
    if (result.error) {
      setProblem(policyProblemOf(result.error));
      return false;
    }
    setDone(said);
    tenants.refresh();
    return true;
  };
  const togglePause = (row: TenantRow) =>
    void save(row.tenant, { paused: !row.paused }, row.paused ? `${row.tenant} is resumed: its tasks start again.` : `${row.tenant} is paused: its running tasks finish, no new one starts.`);

  return (
    <section class="card tenants-card" aria-labelledby="tenants-heading" data-testid="tenants">
      <div class="card-head">
        <h2 id="tenants-heading">Tenants</h2>
        <div class="actions">
          <div class="segmented" role="radiogroup" aria-label="Starts and tokens over the last">
            <For each={ACTIVITY_MINUTES}>
              {(n) => (
                <button type="button" role="radio" aria-checked={minutes() === n} classList={{ selected: minutes() === n }} onClick={() => setMinutes(n)}>
                  {n} min
                </button>
              )}
            </For>
          </div>
          <button type="button" class="secondary small-button" onClick={() => tenants.refresh()} disabled={tenants.reading()} data-testid="tenants-refresh">
            Refresh
          </button>
        </div>
      </div>
      <p class="muted small">
        Tenants share the workers by tokens, in proportion to their weight; a cap limits how many of a tenant's tasks run at once, and a paused tenant starts
        none. Shares count the tasks started over the last {minutes()} minutes{' '}
        <span data-testid="tenants-read-at">
          <Show when={tenants.readAt()}>{(at) => <>· read {formatTime(new Date(at()).toISOString())}</>}</Show>
        </span>
      </p>
      <Show when={tenants.error()}>
        <p class="error" role="alert">
          {tenants.error()}
        </p>
      </Show>
      <Show when={!tenants.loading()} fallback={<p class="muted">Loading…</p>}>
        <Show when={tenants.rows().length > 0} fallback={<p class="muted">No tenant has a policy or work yet.</p>}>
          <div class="table-scroll">
            <table class="data-table tenants-table" data-testid="tenants-table">
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col" class="num">Weight</th>
                  <th scope="col" class="num" title="At most this many of its tasks run at once">
                    Cap
                  </th>
                  <th scope="col" class="num">Running</th>
                  <th scope="col" class="num">Waiting</th>
                  <th scope="col">Starts, last {minutes()} min</th>
                  <th scope="col">Tokens, last {minutes()} min</th>
                  <Show when={props.admin}>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </Show>
                </tr>
              </thead>
              <tbody>
                <For each={tenants.rows()}>
                  {(row) => (
                    <tr data-tenant={row.tenant} data-paused={row.paused}>
                      <td>
                        <strong>{row.tenant}</strong>{' '}
                        <Show when={row.paused}>
                          <span class="paused-tag" data-testid="paused">
                            paused
                          </span>
                        </Show>
                      </td>
                      <td class="num" data-testid="weight">
                        {row.weight}
                      </td>
                      <td class="num" data-testid="cap">
                        {row.maxConcurrency ?? 'none'}
                      </td>
                      <td class="num" data-testid="active">
                        {row.active}
                      </td>
                      <td class="num" data-testid="waiting">
                        {row.waiting}
                      </td>
                      <td data-testid="starts">
                        <ShareBar share={row.startShare} count={row.starts} label={`${row.tenant}'s share of starts`} />
                      </td>
                      <td data-testid="tokens">
                        <ShareBar share={row.tokenShare} count={row.tokens} label={`${row.tenant}'s share of tokens`} />
                      </td>
                      <Show when={props.admin}>
                        <td class="row-actions">
                          <button type="button" class="secondary small-button" disabled={change.fetching} onClick={() => togglePause(row)} aria-label={`${row.paused ? 'Resume' : 'Pause'} ${row.tenant}`}>
                            {row.paused ? 'Resume' : 'Pause'}
                          </button>
                          <button type="button" class="link" onClick={() => setEditing(row)} aria-label={`Edit the policy of ${row.tenant}`}>
                            Edit
                          </button>
                        </td>
                      </Show>
                    </tr>
                  )}
                </For>
              </tbody>
              <Show when={props.admin}>
                <tfoot>
                  <tr>
                    <th scope="row" colSpan={5}>
                      All tenants
                    </th>
                    <td class="num" data-testid="starts-total">
                      {formatCount(totals().starts)} starts
                    </td>
                    <td class="num" data-testid="tokens-total">
                      {formatCount(totals().tokens)} tokens
                    </td>
                    <td />
                  </tr>
                </tfoot>
              </Show>
            </table>
          </div>
        </Show>
      </Show>
      <Show when={props.admin}>
        <TenantPolicyForm
          tenants={tenants.rows().map((row) => row.tenant)}
          editing={editing}
          busy={change.fetching}
          problem={problem()}
          onInvalid={(found) => {
            setDone(null);
            setProblem(found);
          }}
          onSave={(tenant, input) => save(tenant, input, `The policy of ${tenant} is saved.`)}
        />
      </Show>
      <Show when={problem()}>
        {(found) => (
          <p class="error" role="alert" data-testid="policy-error" data-field={found().field ?? ''}>
            {found().message}
          </p>
        )}
      </Show>
      <Show when={done()}>
        <p class="muted small" role="status">
          {done()}
        </p>
      </Show>
    </section>
  );
}
