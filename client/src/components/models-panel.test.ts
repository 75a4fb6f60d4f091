/**
 * The dashboard's Model breakers card in happy-dom: each model of the chain (and any other called)
 * with its shared breaker's state, the probe countdown while open, and its calls and failure rate.
 */
import { render, screen } from '@solidjs/testing-library';
import { createComponent } from 'solid-js';
import { describe, expect, it } from 'vitest';
import type { ModelsUpdatedSubscription } from '../gql/graphql.ts';
import { ModelsPanel } from './models-panel.tsx';

type ModelStatus = ModelsUpdatedSubscription['modelsUpdated'][number];
const model = (patch: Partial<ModelStatus> & { model: string }): ModelStatus => ({
  configured: true,
  state: 'CLOSED',
  openedAt: null,
  halfOpenAt: null,
  calls: 0,
  failures: 0,
  failureRate: 0,
  ...patch,
});

describe('ModelsPanel', () => {
  it("shows each model's breaker state and failure rate, the probe countdown while open, and a model outside the chain", () => {
    const probeAt = new Date(Date.now() + 30_000).toISOString();
    const models = [
      model({ model: 'acme/primary', state: 'OPEN', openedAt: new Date().toISOString(), halfOpenAt: probeAt, calls: 40, failures: 26, failureRate: 0.65 }),
      model({ model: 'acme/fallback', state: 'HALF_OPEN', calls: 12, failures: 1, failureRate: 1 / 12 }),
      model({ model: 'acme/last', calls: 0 }),
      model({ model: 'acme/forced', state: 'OPEN', openedAt: new Date().toISOString() }),
      model({ model: 'other/routed', configured: false, calls: 3 }),
    ];
    const view = render(() => createComponent(ModelsPanel, { models }));
    const rows = [...document.querySelectorAll('.models-table tbody tr')];
    expect(rows.map((row) => [row.getAttribute('data-model'), row.getAttribute('data-circuit')])).toEqual([
      ['acme/primary', 'OPEN'],
      ['acme/fallback', 'HALF_OPEN'],
      ['acme/last', 'CLOSED'],
      ['acme/forced', 'OPEN'],
      ['other/routed', 'CLOSED'],
    ]);
    const cells = (index: number) => [...rows[index]!.querySelectorAll('td')].map((cell) => cell.textContent);
    expect(cells(0)[1]).toMatch(/^OPEN · probe in (29|30) s$/);
    expect(cells(0).slice(2)).toEqual(['40', '65% (26)']);
    expect(cells(1).slice(1)).toEqual(['HALF_OPEN', '12', '8% (1)']);
    expect(cells(2).slice(2)).toEqual(['0', '0% (0)']);
    expect(cells(3)[1]).toBe('OPEN · forced open');
    expect(cells(4)[0]).toBe('other/routed (not in the chain)');
    view.unmount();
  });

  it('says it is loading before the first snapshot', () => {
    const view = render(() => createComponent(ModelsPanel, { models: undefined }));
    expect(screen.getByText('Loading…')).toBeTruthy();
    view.unmount();
  });
});
