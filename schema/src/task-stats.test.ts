import { describe, expect, it } from 'vitest';
import { parseDispatchStats, parseTenantPriorityField } from './task-stats.ts';

describe('parseDispatchStats', () => {
  it('reads the tenant of a counter as everything before the last colon, whatever the name holds', () => {
    expect(parseTenantPriorityField('dispatch_starts:a:b:HIGH', 'dispatch_starts:')).toEqual({ tenant: 'a:b', priority: 'HIGH' });
    expect(parseTenantPriorityField('dispatch_starts::LOW', 'dispatch_starts:')).toEqual({ tenant: '', priority: 'LOW' });
    expect(parseTenantPriorityField('dispatch_starts:acme:URGENT', 'dispatch_starts:')).toBeNull();
    expect(parseTenantPriorityField('dispatch_starts:acme', 'dispatch_starts:')).toBeNull();
  });

  it('counts waiting tasks as joined minus left (started, or dequeued otherwise) per tenant and priority, and reads starts, tokens and the wait', () => {
    const stats = parseDispatchStats({
      'dispatch_queued:a:b:NORMAL': '12',
      // Two left their line without a start (a cancel, a delete); a start is counted only as a start.
      'dispatch_dequeued:a:b:NORMAL': '2',
      'dispatch_queued:acme:HIGH': '2',
      'dispatch_starts:a:b:NORMAL': '7',
      'dispatch_tokens:a:b': '7700',
      'dispatch_tokens_reserved': '900',
      'dispatch_wait:le:100': '3',
      'dispatch_wait:le:500': '4',
      'dispatch_wait:sum_ms': '1000',
      'entered:ACTIVE': '7',
    });
    expect(stats.waiting).toEqual(
      expect.arrayContaining([
        { tenant: 'a:b', priority: 'NORMAL', value: 3 },
        { tenant: 'acme', priority: 'HIGH', value: 2 },
      ]),
    );
    expect(stats.waiting).toHaveLength(2);
    expect(stats.starts).toEqual([{ tenant: 'a:b', priority: 'NORMAL', value: 7 }]);
    expect(stats.tokensStarted).toEqual([{ tenant: 'a:b', value: 7700 }]);
    expect(stats.tokensReserved).toBe(900);
    expect(stats.wait.count).toBe(7);
    expect(stats.wait.buckets.find((bucket) => bucket.le === 500)?.count).toBe(7);
  });
});
