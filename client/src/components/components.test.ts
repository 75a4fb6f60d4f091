/** Components rendered in happy-dom: the flow diagram, the live countdown, the key prompt. */
import { fireEvent, render, screen } from '@solidjs/testing-library';
import { createComponent } from 'solid-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiKey, forgetApiKey, keyRequired, reportUnauthenticated, setApiKey } from '../auth.ts';
import { edgeTotals } from '../flow-model.ts';
import { viewerFrom } from '../primitives/create-viewer.ts';
import { Countdown } from './countdown.tsx';
import { FlowDiagram } from './flow-diagram.tsx';
import { KeyPrompt } from './key-prompt.tsx';

afterEach(() => {
  vi.useRealTimers();
  forgetApiKey();
});

describe('FlowDiagram', () => {
  it('shows each state count and the recent flow on each edge; a node leads to its tasks', () => {
    const edges = edgeTotals([
      { start: '2026-01-01T12:00:00.000Z', transitions: [{ from: 'PENDING', to: 'ACTIVE', count: 4 }, { from: null, to: 'PENDING', count: 6 }] },
    ]);
    const { container, unmount } = render(() => createComponent(FlowDiagram, { counts: { PENDING: 2, COMPLETED: 40 }, edges, minutes: 5 }));
    expect(screen.getByTestId('flow-count-COMPLETED').textContent).toBe('40');
    expect(screen.getByTestId('flow-count-DLQ').textContent).toBe('0');
    expect(container.querySelector('[data-edge="PENDING>ACTIVE"]')!.getAttribute('data-count')).toBe('4');
    expect(container.querySelector('[data-edge=">PENDING"]')!.textContent).toContain('+6');
    expect(container.querySelector('[data-edge="ACTIVE>DLQ"]')!.getAttribute('data-count')).toBe('0');
    // Keyboard reachable.
    const node = container.querySelector<SVGGElement>('[data-flow-node="COMPLETED"]')!;
    expect(node.getAttribute('tabindex')).toBe('0');
    fireEvent.keyDown(node, { key: 'Enter' });
    expect(window.location.pathname + window.location.search).toBe('/tasks?state=COMPLETED');
    unmount();
  });
});

describe('Countdown', () => {
  it('counts down to the retry time every second, then says it is due', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T12:00:00.000Z') });
    const { unmount } = render(() => createComponent(Countdown, { at: '2026-01-01T12:00:03.000Z' }));
    expect(screen.getByTestId('countdown').textContent).toBe('in 3 s');
    await vi.advanceTimersByTimeAsync(1000);
    expect(screen.getByTestId('countdown').textContent).toBe('in 2 s');
    await vi.advanceTimersByTimeAsync(3000);
    expect(screen.getByTestId('countdown').textContent).toBe('due now');
    unmount();
  });
});

describe('KeyPrompt and the key', () => {
  it('keeps the key the operator enters in localStorage, and forgets it on request', () => {
    reportUnauthenticated();
    expect(keyRequired()).toBe(true);
    const { unmount } = render(() => createComponent(KeyPrompt, {}));
    fireEvent.input(screen.getByLabelText('API key'), { target: { value: '  atf_secret  ' } });
    fireEvent.submit(screen.getByRole('dialog'));
    expect(apiKey()).toBe('atf_secret');
    expect(window.localStorage.getItem('atf.apiKey')).toBe('atf_secret');
    expect(keyRequired()).toBe(false);
    forgetApiKey();
    expect(window.localStorage.getItem('atf.apiKey')).toBeNull();
    unmount();
  });

  it('says when the key it had was refused', () => {
    setApiKey('atf_revoked');
    reportUnauthenticated();
    const { unmount } = render(() => createComponent(KeyPrompt, {}));
    expect(screen.getByRole('alert').textContent).toContain('refused');
    unmount();
  });
});

describe('viewerFrom', () => {
  it('takes the server at its word when it answers', () => {
    const viewer = viewerFrom({ data: { viewer: { tenant: 'acme', scopes: ['TASKS_READ'], authenticationRequired: true } }, fetching: false });
    expect(viewer).toMatchObject({ tenant: 'acme', scopes: ['TASKS_READ'], known: true });
  });

  it('is anonymous with every scope when the query fails without a refusal (a server without auth)', () => {
    const viewer = viewerFrom({ error: { response: { status: 200 }, graphQLErrors: [{ extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }, fetching: false });
    expect(viewer.scopes).toEqual(['TASKS_WRITE', 'TASKS_READ', 'ADMIN']);
  });

  it('has no scope at all after a 401 or UNAUTHENTICATED', () => {
    expect(viewerFrom({ error: { response: { status: 401 }, graphQLErrors: [] }, fetching: false }).scopes).toEqual([]);
    expect(viewerFrom({ error: { graphQLErrors: [{ extensions: { code: 'UNAUTHENTICATED' } }] }, fetching: false }).scopes).toEqual([]);
  });
});
