/** The submit form against the hand transport: a refused submit says why, and when to try again. */
import { Provider } from '@urql/solid';
import { fireEvent, render, screen } from '@solidjs/testing-library';
import { createComponent } from 'solid-js';
import { describe, expect, it, vi } from 'vitest';
import { createHandTransport } from '../test-support/hand-transport.ts';
import { budgetRefusalOf, SubmitForm } from './submit-form.tsx';

function setup() {
  const transport = createHandTransport();
  const onSubmitted = vi.fn();
  const view = render(() =>
    createComponent(Provider, {
      value: transport.client,
      get children() {
        return createComponent(SubmitForm, { onSubmitted });
      },
    }),
  );
  const submit = (text: string) => {
    fireEvent.input(screen.getByLabelText('Text'), { target: { value: text } });
    fireEvent.submit(screen.getByRole('form', { name: 'Submit a task' }));
  };
  return { transport, onSubmitted, submit, unmount: view.unmount };
}

describe('SubmitForm', () => {
  it('says the budget is spent, nothing was submitted, and when the budget resets; the text stays', async () => {
    const { transport, onSubmitted, submit, unmount } = setup();
    const resetsAt = new Date(Date.now() + 2 * 3_600_000 + 30 * 60_000 + 20_000).toISOString();
    submit('Some text to summarize.');
    await transport.fail('SubmitTask', [
      { message: 'the daily budget of this tenant is spent', extensions: { code: 'BUDGET_EXCEEDED', details: { period: 'DAY', resetsAt } } },
    ]);
    const alert = await screen.findByTestId('budget-exceeded');
    expect(alert.getAttribute('role')).toBe('alert');
    expect(alert.textContent).toMatch(/^Budget reached: the task was not submitted\. This tenant's daily budget is spent; tasks already queued wait for it\. It resets .+ \(in 2 h 30 min\), or sooner if an admin raises the limit\.$/);
    expect(alert.querySelector('time')!.getAttribute('datetime')).toBe(resetsAt);
    expect((screen.getByLabelText('Text') as HTMLTextAreaElement).value).toBe('Some text to summarize.');
    expect(onSubmitted).not.toHaveBeenCalled();

    // The next answer replaces the message.
    fireEvent.submit(screen.getByRole('form', { name: 'Submit a task' }));
    await transport.fail('SubmitTask', [{ message: 'too many requests', extensions: { code: 'RATE_LIMITED' } }]);
    await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toBe('too many requests'));
    expect(screen.queryByTestId('budget-exceeded')).toBeNull();
    unmount();
  });

  it('submits NORMAL unless another priority is chosen, and keeps the choice for the next task', async () => {
    const { transport, onSubmitted, submit, unmount } = setup();
    expect(screen.getByRole('radio', { name: 'Normal' }).getAttribute('aria-checked')).toBe('true');
    submit('First.');
    expect((await transport.opened('SubmitTask')).variables).toEqual({ input: { content: 'First.', priority: 'NORMAL' } });
    await transport.fail('SubmitTask', [{ message: 'too many requests', extensions: { code: 'RATE_LIMITED' } }]);

    fireEvent.click(screen.getByRole('radio', { name: 'High' }));
    expect(screen.getByRole('radio', { name: 'High' }).getAttribute('aria-checked')).toBe('true');
    expect(screen.getByRole('radio', { name: 'Normal' }).getAttribute('aria-checked')).toBe('false');
    submit('Urgent.');
    await vi.waitFor(() => expect(transport.sent('SubmitTask')).toBe(2));
    expect(transport.open('SubmitTask').variables).toEqual({ input: { content: 'Urgent.', priority: 'HIGH' } });
    const accepted = { id: 't9', type: 'SUMMARIZE', state: 'PENDING', version: 1, progress: 0, retryCount: 0, maxRetries: 3, createdAt: '2026-01-01T12:00:00.000Z', updatedAt: '2026-01-01T12:00:00.000Z', completedAt: null, priority: 'HIGH' };
    await transport.answer('SubmitTask', { submitTask: accepted });
    await vi.waitFor(() => expect(onSubmitted).toHaveBeenCalledWith(accepted));
    expect(screen.getByRole('radio', { name: 'High' }).getAttribute('aria-checked')).toBe('true');
    unmount();
  });

  it('reads the refusal from the error extensions, and nothing else as one', () => {
    expect(budgetRefusalOf({ graphQLErrors: [{ extensions: { code: 'BUDGET_EXCEEDED', details: { period: 'MONTH', resetsAt: '2026-02-01T00:00:00.000Z' } } }] })).toEqual({
      period: 'MONTH',
      resetsAt: '2026-02-01T00:00:00.000Z',
    });
    // A server that left the details out still gets the clear message, without a time.
    expect(budgetRefusalOf({ graphQLErrors: [{ extensions: { code: 'BUDGET_EXCEEDED' } }] })).toEqual({ period: '', resetsAt: null });
    expect(budgetRefusalOf({ graphQLErrors: [{ extensions: { code: 'FORBIDDEN' } }] })).toBeNull();
    expect(budgetRefusalOf({ graphQLErrors: [] })).toBeNull();
  });
});
