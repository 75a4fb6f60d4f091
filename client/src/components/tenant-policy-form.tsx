/**
 * The admin's form for one tenant's policy: weight, cap (blank for none) and paused. "Edit" on a
 * row fills it with that tenant's policy; a tenant not listed yet (one that has never submitted)
 * can be typed in. A refusal marks the field the server named.
 */
import { createEffect, createSignal, For, on, type Accessor } from 'solid-js';
import type { TenantPolicyInput } from '../gql/graphql.ts';
import { policyInputFrom, type PolicyProblem, type TenantRow } from '../tenants-model.ts';

export interface TenantPolicyFormProps {
  /** Tenants offered in the tenant field. */
  tenants: readonly string[];
  /** The row "Edit" was clicked on; the form takes its values each time it changes. */
  editing: Accessor<TenantRow | null>;
  busy: boolean;
  /** The last refusal, to mark its field. */
  problem: PolicyProblem | null;
  /** Sends the change; resolves true once the server took it. */
  onSave: (tenant: string, input: TenantPolicyInput) => Promise<boolean>;
  /** A problem found before sending (not a whole number). */
  onInvalid: (problem: PolicyProblem) => void;
}

/** The form; it checks only that numbers are whole, and leaves every other rule to the server. */
export function TenantPolicyForm(props: TenantPolicyFormProps) {
  const [tenant, setTenant] = createSignal('');
  const [weight, setWeight] = createSignal('');
  const [cap, setCap] = createSignal('');
  const [paused, setPaused] = createSignal(false);
  createEffect(
    on(props.editing, (row) => {
      if (!row) return;
      setTenant(row.tenant);
      setWeight(String(row.weight));
      setCap(row.maxConcurrency === null ? '' : String(row.maxConcurrency));
      setPaused(row.paused);
    }),
  );
  const invalid = (field: PolicyProblem['field']) => props.problem?.field === field || undefined;

  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const read = policyInputFrom({ weight: weight(), cap: cap(), paused: paused() });
    if ('problem' in read) {
      props.onInvalid(read.problem);
      return;
    }
    await props.onSave(tenant().trim(), read.input);
  };

  return (
    <form class="budget-form tenant-form" onSubmit={onSubmit} aria-label="Set a tenant's policy">
      <label>
        Tenant
        <input
          required
          name="tenant"
          list="policy-tenants"
          autocomplete="off"
          aria-invalid={invalid('tenant')}
          value={tenant()}
          onInput={(event) => setTenant(event.currentTarget.value)}
        />
      </label>
      <datalist id="policy-tenants">
        <For each={props.tenants}>{(name) => <option value={name} />}</For>
      </datalist>
      <label title="Its share of tokens against other tenants with work, 1 to 1000; blank keeps it">
        Weight
        <input name="weight" type="number" step="1" inputmode="numeric" placeholder="keep" aria-invalid={invalid('weight')} value={weight()} onInput={(event) => setWeight(event.currentTarget.value)} />
      </label>
      <label title="At most this many of its tasks run at once; blank for no cap">
        Cap
        <input name="maxConcurrency" type="number" step="1" inputmode="numeric" placeholder="none" aria-invalid={invalid('maxConcurrency')} value={cap()} onInput={(event) => setCap(event.currentTarget.value)} />
      </label>
      <label class="inline">
        <input name="paused" type="checkbox" checked={paused()} onChange={(event) => setPaused(event.currentTarget.checked)} /> Paused
      </label>
      <button type="submit" disabled={props.busy}>
        Save policy
      </button>
    </form>
  );
}
