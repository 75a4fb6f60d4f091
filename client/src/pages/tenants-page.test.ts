/**
 * The Tenants view in happy-dom against the hand transport: the Tenants query, the task feed and
 * the policy changes are answered and pushed by the test, frames are run by hand.
 */
import { Provider } from '@urql/solid';
import { fireEvent, render, screen, within } from '@solidjs/testing-library';
import { createComponent } from 'solid-js';
import { describe, expect, it, vi } from 'vitest';
import type { TaskState, TenantsQuery } from '../gql/graphql.ts';
import { createHandTransport, createManualFrames } from '../test-support/hand-transport.ts';
import { TenantsPage } from './tenants-page.tsx';

const answer = (patch: Partial<TenantsQuery> = {}): TenantsQuery => ({
  tenantPolicies: [
    { tenant: 'globex', weight: 3, maxConcurrency: 2, paused: false, active: 2, waiting: 5 },
    { tenant: 'acme', weight: 1, maxConcurrency: null, paused: true, active: 0, waiting: 4 },
  ],
  tenantActivity: [
    { tenant: 'globex', starts: 30, tokens: 90_000, startShare: 0.75, tokenShare: 0.9 },
    { tenant: 'initech', starts: 10, tokens: 10_000, startShare: 0.25, tokenShare: 0.1 },
  ],
  ...patch,
});

const policy = (tenant: string, paused: boolean) => ({ setTenantPolicy: { tenant, weight: 1, maxConcurrency: null, paused, active: 0, waiting: 4 } });

const taskEvent = (id: string, state: TaskState, version: number, progress = 0) => ({
  tasksUpdated: {
    id,
    type: 'SUMMARIZE',
    state,
    version,
    progress,
    retryCount: 0,
    maxRetries: 3,
    createdAt: '2026-01-01T12:00:00.000Z',
    updatedAt: '2026-01-01T12:00:00.000Z',
    completedAt: null,
    priority: 'NORMAL' as const,
  },
});

function setup(admin: boolean, minIntervalMs = 60_000) {
  const transport = createHandTransport();
  const frames = createManualFrames();
  const view = render(() =>
    createComponent(Provider, {
      value: transport.client,
      get children() {
        return createComponent(TenantsPage, { admin, minIntervalMs, schedule: frames.schedule });
      },
    }),
  );
  const row = (tenant: string) => view.container.querySelector<HTMLElement>(`tr[data-tenant="${tenant}"]`)!;
  const cell = (tenant: string, testId: string) => within(row(tenant)).getByTestId(testId).textContent;
  return { transport, frames, row, cell, container: view.container, unmount: view.unmount };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('TenantsPage', () => {
  it("shows an admin every tenant's policy, counts and shares over the chosen window", async () => {
    const { transport, row, cell, unmount } = setup(true);
    expect((await transport.opened('Tenants')).variables).toEqual({ minutes: 15 });
    await transport.answer('Tenants', answer());
    await screen.findByTestId('tenants-table');

    expect(Array.from(document.querySelectorAll('tbody tr')).map((tr) => tr.getAttribute('data-tenant'))).toEqual(['acme', 'globex', 'initech']);
    expect([cell('globex', 'weight'), cell('globex', 'cap'), cell('globex', 'active'), cell('globex', 'waiting')]).toEqual(['3', '2', '2', '5']);
    expect(cell('acme', 'cap')).toBe('none');
    expect(row('acme').getAttribute('data-paused')).toBe('true');
    expect(within(row('acme')).getByTestId('paused').textContent).toBe('paused');
    expect(within(row('globex')).queryByTestId('paused')).toBeNull();
    expect(cell('globex', 'starts')).toBe('75% · 30');
    expect(cell('globex', 'tokens')).toBe('90% · 90,000');
    expect(within(row('globex')).getByRole('meter', { name: "globex's share of tokens" }).getAttribute('aria-valuenow')).toBe('0.9');
    // Known only by what it started: the default policy, nothing running or waiting.
    expect([cell('initech', 'weight'), cell('initech', 'cap'), cell('initech', 'waiting')]).toEqual(['1', 'none', '0']);
    expect(screen.getByTestId('starts-total').textContent).toBe('40 starts');

    fireEvent.click(screen.getByRole('radio', { name: '60 min' }));
    expect((await transport.opened('Tenants')).variables).toEqual({ minutes: 60 });
    unmount();
  });

  it('pauses and resumes a tenant, saves a policy from the form, and shows what the server refused', async () => {
    const { transport, row, unmount } = setup(true);
    await transport.answer('Tenants', answer());
    await screen.findByTestId('tenants-table');

    fireEvent.click(within(row('acme')).getByRole('button', { name: 'Resume acme' }));
    expect((await transport.opened('SetTenantPolicy')).variables).toEqual({ tenant: 'acme', input: { paused: false } });
    await transport.answer('SetTenantPolicy', policy('acme', false));
    expect((await screen.findByRole('status')).textContent).toBe('acme is resumed: its tasks start again.');
    // Read again after the change.
    const [globex] = answer().tenantPolicies;
    await transport.answer('Tenants', answer({ tenantPolicies: [globex!, { tenant: 'acme', weight: 1, maxConcurrency: null, paused: false, active: 1, waiting: 3 }] }));
    await vi.waitFor(() => expect(row('acme').getAttribute('data-paused')).toBe('false'));
    expect(within(row('acme')).getByRole('button', { name: 'Pause acme' })).toBeTruthy();

    // Edit fills the form with the tenant's policy; a weight the server refuses is shown on its field.
    fireEvent.click(within(row('globex')).getByRole('button', { name: 'Edit the policy of globex' }));
    const form = screen.getByRole('form', { name: "Set a tenant's policy" });
    const field = (name: string) => form.querySelector<HTMLInputElement>(`[name="${name}"]`)!;
    expect([field('tenant').value, field('weight').value, field('maxConcurrency').value, field('paused').checked]).toEqual(['globex', '3', '2', false]);
    fireEvent.input(field('weight'), { target: { value: '0' } });
    fireEvent.input(field('maxConcurrency'), { target: { value: '' } });
    fireEvent.submit(form);
    expect((await transport.opened('SetTenantPolicy')).variables).toEqual({ tenant: 'globex', input: { weight: 0, maxConcurrency: null, paused: false } });
    await transport.fail('SetTenantPolicy', [
      { message: 'weight must be an integer from 1 to 1000 (leave it out to keep it)', extensions: { code: 'BAD_USER_INPUT', details: { reason: 'weight' } } },
    ]);
    const alert = await screen.findByTestId('policy-error');
    expect(alert.textContent).toBe('weight must be an integer from 1 to 1000 (leave it out to keep it)');
    expect(alert.getAttribute('data-field')).toBe('weight');
    expect(field('weight').getAttribute('aria-invalid')).toBe('true');
    expect(field('maxConcurrency').getAttribute('aria-invalid')).toBeNull();

    // Not a whole number: said at once, nothing sent.
    const sent = transport.sent('SetTenantPolicy');
    fireEvent.input(field('weight'), { target: { value: '2.5' } });
    fireEvent.submit(form);
    await vi.waitFor(() => expect(screen.getByTestId('policy-error').textContent).toBe('The weight is a whole number.'));
    expect(transport.sent('SetTenantPolicy')).toBe(sent);

    fireEvent.input(field('weight'), { target: { value: '5' } });
    fireEvent.input(field('maxConcurrency'), { target: { value: '4' } });
    fireEvent.submit(form);
    expect((await transport.opened('SetTenantPolicy')).variables).toEqual({ tenant: 'globex', input: { weight: 5, maxConcurrency: 4, paused: false } });
    await transport.answer('SetTenantPolicy', { setTenantPolicy: { tenant: 'globex', weight: 5, maxConcurrency: 4, paused: false, active: 2, waiting: 5 } });
    expect((await screen.findByRole('status')).textContent).toBe('The policy of globex is saved.');
    expect(screen.queryByTestId('policy-error')).toBeNull();
    unmount();
  });

  it('reads again when a task is submitted, starts or ends, at most once per interval, and after a reconnect; not on progress', async () => {
    const { transport, frames, unmount } = setup(true, 300);
    await transport.answer('Tenants', answer());
    await transport.opened('TasksUpdated');
    transport.live('TasksUpdated');
    frames.frame();
    await settle();
    expect(transport.sent('Tenants')).toBe(1);

    transport.push('TasksUpdated', taskEvent('t1', 'PENDING', 1));
    frames.frame();
    await vi.waitFor(() => expect(transport.sent('Tenants')).toBe(2));
    await transport.answer('Tenants', answer());
    // Within the interval: one trailing read for both.
    transport.push('TasksUpdated', taskEvent('t1', 'ACTIVE', 2));
    frames.frame();
    transport.push('TasksUpdated', taskEvent('t1', 'ACTIVE', 3, 0.5));
    transport.push('TasksUpdated', taskEvent('t1', 'COMPLETED', 4, 1));
    frames.frame();
    await settle();
    expect(transport.sent('Tenants')).toBe(2);
    await vi.waitFor(() => expect(transport.sent('Tenants')).toBe(3), { timeout: 2_000 });
    await transport.answer('Tenants', answer());

    // Progress alone asks for nothing.
    await new Promise((resolve) => setTimeout(resolve, 350));
    transport.push('TasksUpdated', taskEvent('t2', 'ACTIVE', 2));
    frames.frame();
    await vi.waitFor(() => expect(transport.sent('Tenants')).toBe(4));
    await transport.answer('Tenants', answer());
    await new Promise((resolve) => setTimeout(resolve, 350));
    transport.push('TasksUpdated', taskEvent('t2', 'ACTIVE', 3, 0.7));
    frames.frame();
    await settle();
    expect(transport.sent('Tenants')).toBe(4);

    // Resubscribed after a reconnect: live again, so read again.
    transport.live('TasksUpdated');
    await vi.waitFor(() => expect(transport.sent('Tenants')).toBe(5));
    unmount();
  });

  it("shows a tenant's key its own row and no controls", async () => {
    const { transport, unmount, container } = setup(false);
    await transport.answer('Tenants', {
      tenantPolicies: [{ tenant: 'acme', weight: 1, maxConcurrency: null, paused: true, active: 0, waiting: 2 }],
      tenantActivity: [],
    });
    await screen.findByTestId('tenants-table');
    expect(Array.from(container.querySelectorAll('tbody tr')).map((tr) => tr.getAttribute('data-tenant'))).toEqual(['acme']);
    expect(screen.queryByRole('form', { name: "Set a tenant's policy" })).toBeNull();
    expect(screen.queryByRole('button', { name: /Resume|Pause/ })).toBeNull();
    expect(screen.getAllByRole('columnheader').map((th) => th.textContent)).toEqual(['Tenant', 'Weight', 'Cap', 'Running', 'Waiting', 'Starts, last 15 min', 'Tokens, last 15 min']);
    unmount();
  });
});
