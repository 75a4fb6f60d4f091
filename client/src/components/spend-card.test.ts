/**
 * The dashboard's Spend card in happy-dom against the hand transport: the Spend query and the
 * task feed are answered and pushed by the test, frames are run by hand.
 */
import { Provider } from '@urql/solid';
import { fireEvent, render, screen, within } from '@solidjs/testing-library';
import { createComponent } from 'solid-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SpendQuery, TaskState } from '../gql/graphql.ts';
import { spendRange } from '../spend-model.ts';
import { createHandTransport, createManualFrames } from '../test-support/hand-transport.ts';
import { SpendCard } from './spend-card.tsx';

const HOUR = 3_600_000;
const { days } = spendRange(7, Date.now());
const today = days.at(-1)!;
const resetsAt = new Date(Date.now() + 5 * HOUR + 60_000).toISOString();

const spend = (patch: Partial<SpendQuery> = {}): SpendQuery => ({
  usage: [
    { tenant: 'acme', model: 'openai/gpt-4o-mini', day: today, tasks: 3, calls: 4, promptTokens: 12_000, completionTokens: 800, costUsd: 0.1 },
    { tenant: 'acme', model: 'openai/gpt-4o-mini', day: days[0]!, tasks: 1, calls: 1, promptTokens: 1_000, completionTokens: 100, costUsd: 0.2 },
    { tenant: 'globex', model: 'anthropic/claude-3.5-haiku', day: today, tasks: 2, calls: 2, promptTokens: 5_000, completionTokens: 400, costUsd: 0.0123 },
  ],
  budgets: [
    { tenant: 'acme', period: 'DAY', limitUsd: 0.12, spentUsd: 0.1, reservedUsd: 0.005, resetsAt },
    { tenant: 'globex', period: 'MONTH', limitUsd: 5, spentUsd: 0.0123, reservedUsd: 0, resetsAt },
  ],
  ...patch,
});

const task = (id: string, state: TaskState, version: number) => ({
  tasksUpdated: {
    id,
    type: 'SUMMARIZE',
    state,
    version,
    progress: 0,
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
        return createComponent(SpendCard, { admin, minIntervalMs, schedule: frames.schedule });
      },
    }),
  );
  return { transport, frames, container: view.container, unmount: view.unmount };
}

const originalConfirm = window.confirm;
afterEach(() => {
  window.confirm = originalConfirm;
});

describe('SpendCard', () => {
  it('shows cost per day, the tenant x model table and the budget bars with their reset', async () => {
    const { transport, container, unmount } = setup(true);
    const query = await transport.opened('Spend');
    expect(query.variables).toEqual({ from: `${days[0]}T00:00:00.000Z`, to: new Date(Date.parse(`${today}T00:00:00.000Z`) + 24 * HOUR).toISOString() });
    await transport.answer('Spend', spend());

    const table = await screen.findByTestId('spend-table');
    const rows = within(table)
      .getAllByRole('row')
      .slice(1, -1)
      .map((row) => Array.from(row.querySelectorAll('td')).map((td) => td.textContent));
    expect(rows).toEqual([
      ['acme', 'openai/gpt-4o-mini', '4', '5', '13,000 / 900', '$0.3000'],
      ['globex', 'anthropic/claude-3.5-haiku', '2', '2', '5,000 / 400', '$0.0123'],
    ]);
    expect(screen.getByTestId('spend-total').textContent).toBe('$0.3123');

    // Seven bars, one per UTC day; today's stacks both tenants.
    const bars = container.querySelectorAll('.chart-bar');
    expect(bars).toHaveLength(7);
    expect(Number(bars[6]!.getAttribute('data-total'))).toBeCloseTo(0.1123, 9);
    expect(bars[6]!.querySelectorAll('.chart-segment')).toHaveLength(2);
    expect(bars[3]!.querySelectorAll('.chart-segment')).toHaveLength(0);
    expect(screen.getByRole('img').getAttribute('aria-label')).toContain('acme $0.3000, globex $0.0123');

    // acme spent $0.10 and holds $0.005 of $0.12: past 80 %, a warning.
    const acme = container.querySelector('[data-budget="acme:DAY"]')!;
    expect(acme.getAttribute('data-state')).toBe('near');
    expect(within(acme as HTMLElement).getByTestId('budget-figures').textContent).toBe('$0.1000 + $0.0050 held of $0.1200 (88%)');
    expect((acme.querySelector('.budget-spent') as HTMLElement).style.width).toBe('83.33%');
    expect((acme.querySelector('.budget-reserved') as HTMLElement).style.width).toBe('4.17%');
    expect(within(acme as HTMLElement).getByRole('meter').getAttribute('aria-valuemax')).toBe('0.12');
    expect(within(acme as HTMLElement).getByTestId('budget-resets').textContent).toMatch(/^Resets .+ \(in 5 h 1 min\)$/);
    expect(container.querySelector('[data-budget="globex:MONTH"]')!.getAttribute('data-state')).toBe('ok');

    // By model instead of by tenant.
    fireEvent.click(screen.getByRole('radio', { name: 'by model' }));
    expect(screen.getByRole('img').getAttribute('aria-label')).toContain('Cost per day by model');
    expect(screen.getByRole('img').getAttribute('aria-label')).toContain('openai/gpt-4o-mini $0.3000');
    unmount();
  });

  it('reads again when a task starts or ends an attempt, at most once per interval, and after a reconnect', async () => {
    const { transport, frames, unmount } = setup(true, 300);
    await transport.answer('Spend', spend());
    await transport.opened('TasksUpdated');
    transport.live('TasksUpdated');
    frames.frame();
    expect(transport.sent('Spend')).toBe(1);

    // A task queued: nothing billed, nothing held.
    transport.push('TasksUpdated', task('t1', 'PENDING', 1));
    frames.frame();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(transport.sent('Spend')).toBe(1);

    // It completes: one read at once.
    transport.push('TasksUpdated', task('t1', 'COMPLETED', 3));
    frames.frame();
    await vi.waitFor(() => expect(transport.sent('Spend')).toBe(2));
    await transport.answer('Spend', spend());

    // A burst within the interval: one more read when it ends, not one per event.
    transport.push('TasksUpdated', task('t2', 'ACTIVE', 2));
    transport.push('TasksUpdated', task('t3', 'COMPLETED', 4));
    transport.push('TasksUpdated', task('t4', 'DLQ', 9));
    frames.frame();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(transport.sent('Spend')).toBe(2);
    await vi.waitFor(() => expect(transport.sent('Spend')).toBe(3), { timeout: 2000 });
    await transport.answer('Spend', spend());

    // Progress of a running task says nothing.
    await new Promise((resolve) => setTimeout(resolve, 350));
    transport.push('TasksUpdated', { tasksUpdated: { ...task('t2', 'ACTIVE', 3).tasksUpdated, progress: 0.5 } });
    frames.frame();
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(transport.sent('Spend')).toBe(3);

    // The feed resubscribed after a reconnect: what happened meanwhile was not streamed.
    transport.live('TasksUpdated');
    await vi.waitFor(() => expect(transport.sent('Spend')).toBe(4));

    // And the Refresh button reads at once.
    await transport.answer('Spend', spend());
    fireEvent.click(screen.getByTestId('spend-refresh'));
    await vi.waitFor(() => expect(transport.sent('Spend')).toBe(5));
    unmount();
  });

  it('lets an admin set a budget and remove one, then reads again; a refusal is shown', async () => {
    const { transport, unmount } = setup(true);
    await transport.answer('Spend', spend());
    await screen.findByTestId('budgets');
    // The tenants seen are offered.
    expect(Array.from(document.querySelectorAll('#budget-tenants option')).map((o) => o.getAttribute('value'))).toEqual(['acme', 'globex']);

    fireEvent.input(screen.getByLabelText('Tenant'), { target: { value: 'initech' } });
    fireEvent.change(screen.getByLabelText('Period'), { target: { value: 'MONTH' } });
    fireEvent.input(screen.getByLabelText('Limit ($)'), { target: { value: '25' } });
    fireEvent.submit(screen.getByRole('form', { name: 'Set a budget' }));
    const set = await transport.opened('SetBudget');
    expect(set.variables).toEqual({ tenant: 'initech', period: 'MONTH', limitUsd: 25 });
    await transport.answer('SetBudget', { setBudget: { tenant: 'initech', period: 'MONTH', limitUsd: 25, spentUsd: 0, reservedUsd: 0, resetsAt } });
    await vi.waitFor(() => expect(screen.getByRole('status').textContent).toBe('The monthly budget of initech is now $25.00.'));
    await vi.waitFor(() => expect(transport.sent('Spend')).toBe(2));
    await transport.answer('Spend', spend());

    window.confirm = vi.fn(() => true);
    fireEvent.click(screen.getByRole('button', { name: 'Remove the acme daily budget' }));
    expect((await transport.opened('SetBudget')).variables).toEqual({ tenant: 'acme', period: 'DAY', limitUsd: null });
    await transport.answer('SetBudget', { setBudget: null });
    await vi.waitFor(() => expect(screen.getByRole('status').textContent).toBe('The daily budget of acme was removed.'));
    await vi.waitFor(() => expect(transport.sent('Spend')).toBe(3));
    await transport.answer('Spend', spend());

    fireEvent.input(screen.getByLabelText('Tenant'), { target: { value: 'acme' } });
    fireEvent.input(screen.getByLabelText('Limit ($)'), { target: { value: '-1' } });
    fireEvent.submit(screen.getByRole('form', { name: 'Set a budget' }));
    expect(screen.getByRole('alert').textContent).toBe('The limit is an amount in dollars, 0 or more.');
    fireEvent.input(screen.getByLabelText('Limit ($)'), { target: { value: '1' } });
    fireEvent.submit(screen.getByRole('form', { name: 'Set a budget' }));
    await transport.fail('SetBudget', [{ message: 'this API key lacks the ADMIN scope', extensions: { code: 'FORBIDDEN' } }]);
    await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toBe('this API key lacks the ADMIN scope'));
    expect(transport.sent('Spend')).toBe(3);
    unmount();
  });

  it("shows a tenant's key its own spend by model, with no tenant column and no form", async () => {
    const { transport, container, unmount } = setup(false);
    await transport.answer('Spend', spend({ usage: spend().usage.filter((row) => row.tenant === 'acme'), budgets: spend().budgets.slice(0, 1) }));
    const table = await screen.findByTestId('spend-table');
    expect(within(table).getAllByRole('columnheader').map((th) => th.textContent)).toEqual(['Model', 'Tasks', 'Calls', 'Tokens in / out', 'Cost']);
    expect(screen.getByRole('img').getAttribute('aria-label')).toContain('Cost per day by model');
    expect(screen.queryByRole('radio', { name: 'by tenant' })).toBeNull();
    expect(screen.queryByRole('form', { name: 'Set a budget' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Remove/ })).toBeNull();
    expect(container.querySelectorAll('[data-budget]')).toHaveLength(1);
    unmount();
  });

  it('says when nothing was spent and no budget is set', async () => {
    const { transport, unmount } = setup(true);
    await transport.answer('Spend', { usage: [], budgets: [] });
    await screen.findByText('No provider call was billed in this range.');
    expect(screen.getByText('No budget is set: spend is not limited.')).toBeTruthy();
    expect(screen.getByRole('img').getAttribute('aria-label')).toContain('nothing spent');
    unmount();
  });
});
