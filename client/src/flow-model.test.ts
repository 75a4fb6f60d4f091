import { describe, expect, it } from 'vitest';
import { edgeTotals, minuteSeries, type FlowBucket } from './flow-model.ts';

const minute = (i: number) => new Date(Date.UTC(2026, 0, 1, 12, i)).toISOString();
const buckets: FlowBucket[] = [
  { start: minute(0), transitions: [{ from: null, to: 'PENDING', count: 5 }, { from: 'PENDING', to: 'ACTIVE', count: 3 }] },
  { start: minute(1), transitions: [{ from: 'ACTIVE', to: 'COMPLETED', count: 2 }, { from: 'ACTIVE', to: 'SCHEDULED', count: 1 }] },
  { start: minute(2), transitions: [{ from: 'SCHEDULED', to: 'ACTIVE', count: 1 }, { from: 'ACTIVE', to: 'DLQ', count: 1 }, { from: 'PENDING', to: 'ACTIVE', count: 2 }] },
];

describe('flow model', () => {
  it('sums each edge over the chosen last minutes', () => {
    expect(edgeTotals(buckets).get('PENDING>ACTIVE')).toBe(5);
    expect(edgeTotals(buckets).get('>PENDING')).toBe(5);
    expect(edgeTotals(buckets, 1).get('PENDING>ACTIVE')).toBe(2);
    expect(edgeTotals(buckets, 1).get('>PENDING')).toBeUndefined();
  });

  it('rebuilds the depth at the end of each minute backwards from the counts now', () => {
    // Now: nothing waits, two tasks are active (5 submitted, 2 completed, 1 in the DLQ).
    const series = minuteSeries(buckets, { PENDING: 0, SCHEDULED: 0, ACTIVE: 2 });
    expect(series.map((p) => p.waiting)).toEqual([2, 3, 0]);
    expect(series.map((p) => p.active)).toEqual([3, 0, 2]);
    expect(series.map((p) => [p.submitted, p.completed, p.retried, p.failed])).toEqual([
      [5, 0, 0, 0],
      [0, 2, 1, 0],
      [0, 0, 0, 1],
    ]);
    expect(series[0]!.start).toBe(Date.parse(minute(0)));
  });
});
