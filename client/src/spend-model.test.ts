import { describe, expect, it } from 'vitest';
import { budgetFill, createSpendWatch, formatUsd, spendByDay, spendRange, spendTable, type UsageRow } from './spend-model.ts';

const row = (tenant: string, model: string, day: string, costUsd: number, patch: Partial<UsageRow> = {}): UsageRow => ({
  tenant,
  model,
  day,
  tasks: 1,
  calls: 1,
  promptTokens: 100,
  completionTokens: 20,
  costUsd,
  ...patch,
});

describe('spend model', () => {
  it('reads the last N UTC days, today included, up to the midnight that ends today', () => {
    const range = spendRange(3, Date.parse('2026-03-01T22:30:00.000Z'));
    expect(range).toEqual({ from: '2026-02-27T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z', days: ['2026-02-27', '2026-02-28', '2026-03-01'] });
  });

  it('adds cost up per day by tenant or by model, largest first, the rest as "other"', () => {
    const days = ['2026-01-01', '2026-01-02'];
    const rows = [
      row('acme', 'm/a', '2026-01-01', 0.1),
      row('acme', 'm/b', '2026-01-02', 0.2),
      row('globex', 'm/a', '2026-01-02', 0.05),
      row('initech', 'm/a', '2026-01-01', 0.01),
      row('umbrella', 'm/a', '2026-01-02', 0.02),
      row('free', 'm/a', '2026-01-02', 0),
      // A day outside the range is left out.
      row('acme', 'm/a', '2025-12-31', 9),
    ];
    expect(spendByDay(rows, 'tenant', days)).toEqual([
      { name: 'acme', values: [0.1, 0.2], total: 0.3 },
      { name: 'globex', values: [0, 0.05], total: 0.05 },
      { name: 'umbrella', values: [0, 0.02], total: 0.02 },
      { name: 'initech', values: [0.01, 0], total: 0.01 },
    ]);
    expect(spendByDay(rows, 'tenant', days, 3)).toEqual([
      { name: 'acme', values: [0.1, 0.2], total: 0.3 },
      { name: 'globex', values: [0, 0.05], total: 0.05 },
      { name: 'other', values: [0.01, 0.02], total: 0.03, rest: true },
    ]);
    expect(spendByDay(rows, 'model', days).map((s) => [s.name, s.total])).toEqual([
      ['m/b', 0.2],
      ['m/a', 0.18],
    ]);
  });

  it('sums the table exactly, costliest tenant and model first, with the total', () => {
    // As floats 0.1 + 0.2 is 0.30000000000000004; as nano-dollars it is 0.3.
    const rows = [row('acme', 'm/a', '2026-01-01', 0.1), row('acme', 'm/a', '2026-01-02', 0.2, { tasks: 0, calls: 2 }), row('globex', 'm/b', '2026-01-01', 0.000000001)];
    const { lines, total } = spendTable(rows);
    expect(lines).toEqual([
      { tenant: 'acme', model: 'm/a', tasks: 1, calls: 3, promptTokens: 200, completionTokens: 40, costUsd: 0.3 },
      { tenant: 'globex', model: 'm/b', tasks: 1, calls: 1, promptTokens: 100, completionTokens: 20, costUsd: 0.000000001 },
    ]);
    expect(total).toEqual({ tasks: 2, calls: 4, promptTokens: 300, completionTokens: 60, costUsd: 0.300000001 });
  });

  it('fills a budget bar with spent, then held, against the limit; reached once both reach it', () => {
    expect(budgetFill({ limitUsd: 10, spentUsd: 2, reservedUsd: 1 })).toEqual({ spent: 0.2, reserved: 0.1, limitAt: 1, used: 0.3, state: 'ok' });
    expect(budgetFill({ limitUsd: 10, spentUsd: 7, reservedUsd: 1 }).state).toBe('near');
    expect(budgetFill({ limitUsd: 10, spentUsd: 9, reservedUsd: 1 }).state).toBe('reached');
    // Calls in flight may take spend past the limit: the bar widens and marks the limit.
    expect(budgetFill({ limitUsd: 10, spentUsd: 12, reservedUsd: 4 })).toEqual({ spent: 0.75, reserved: 0.25, limitAt: 0.625, used: 1.6, state: 'reached' });
    // A zero limit is reached at once (the server refuses every submit).
    expect(budgetFill({ limitUsd: 0, spentUsd: 0, reservedUsd: 0 })).toMatchObject({ spent: 0, reserved: 0, used: 0, state: 'reached' });
    expect(budgetFill({ limitUsd: 0, spentUsd: 1, reservedUsd: 0 })).toMatchObject({ spent: 1, limitAt: 0, used: Number.POSITIVE_INFINITY, state: 'reached' });
  });

  it('writes dollars so that a cheap call never reads as free', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(0.0123)).toBe('$0.0123');
    expect(formatUsd(0.5)).toBe('$0.5000');
    expect(formatUsd(1234.5)).toBe('$1,234.50');
    expect(formatUsd(0.0000123)).toBe('$0.000012');
    expect(formatUsd(0.000000001)).toBe('$0.000000001');
  });

  it('asks for a read when a task starts an attempt or an attempt ends, not on progress or PENDING', () => {
    const moved = createSpendWatch();
    expect(moved([{ id: 't1', state: 'PENDING' }])).toBe(false);
    expect(moved([{ id: 't1', state: 'ACTIVE' }])).toBe(true);
    // Progress: the same state again.
    expect(moved([{ id: 't1', state: 'ACTIVE' }, { id: 't1', state: 'ACTIVE' }])).toBe(false);
    expect(moved([{ id: 't1', state: 'SCHEDULED' }])).toBe(true);
    expect(moved([{ id: 't1', state: 'PENDING' }, { id: 't2', state: 'PENDING' }])).toBe(false);
    expect(moved([{ id: 't2', state: 'COMPLETED' }])).toBe(true);
    // A task first seen mid-attempt counts: its hold may be new.
    expect(moved([{ id: 't3', state: 'ACTIVE' }])).toBe(true);
  });

  it('remembers a bounded number of unfinished tasks', () => {
    const moved = createSpendWatch(2);
    moved([{ id: 'a', state: 'ACTIVE' }, { id: 'b', state: 'ACTIVE' }]);
    // The map is full: it starts over rather than grow, which at worst asks for one more read.
    expect(moved([{ id: 'c', state: 'ACTIVE' }])).toBe(true);
    expect(moved([{ id: 'c', state: 'ACTIVE' }])).toBe(false);
    expect(moved([{ id: 'a', state: 'ACTIVE' }])).toBe(true);
  });
});
