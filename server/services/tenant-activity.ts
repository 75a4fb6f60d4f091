/**
 * What each tenant started recently (`tenantActivity`): starts and estimated tokens per tenant
 * over the last N minutes. The dispatcher keeps only running totals (`dispatch_starts:*`,
 * `dispatch_tokens:*` in the stats hash), so each API server samples them every `sampleMs` and
 * keeps an hour of samples in memory; a window's figures are the totals now minus the sample
 * taken at its start. A server that has run for less than the window answers for the time it
 * has run (its first sample is the oldest it has).
 */
import type { Logger } from '../../common/logger.ts';
import type { DispatchStats } from '../../schema/src/task-stats.ts';

export const MAX_ACTIVITY_MINUTES = 60;

/** One tenant's starts and estimated tokens, cumulative (a sample) or over a window. */
export interface TenantTotals {
  starts: number;
  tokens: number;
}

export interface TenantActivityView extends TenantTotals {
  tenant: string;
  /** Its part of every tenant's starts in the window, 0 to 1. */
  startShare: number;
  tokenShare: number;
}

export interface TenantActivityOptions {
  /** The dispatcher's counters now (`DispatchStore.stats`). */
  read(): Promise<DispatchStats>;
  /** TENANT_ACTIVITY_SAMPLE_MS. */
  sampleMs: number;
  logger: Logger;
  now?: () => number;
}

interface Sample {
  at: number;
  totals: Map<string, TenantTotals>;
}

/** Running totals per tenant: starts summed over priorities, tokens as counted. */
export function totalsByTenant(stats: DispatchStats): Map<string, TenantTotals> {
  const totals = new Map<string, TenantTotals>();
  const entry = (tenant: string) => {
    let found = totals.get(tenant);
    if (!found) totals.set(tenant, (found = { starts: 0, tokens: 0 }));
    return found;
  };
  for (const { tenant, value } of stats.starts) entry(tenant).starts += value;
  for (const { tenant, value } of stats.tokensStarted) entry(tenant).tokens += value;
  return totals;
}

/** The figures from `base` to `current`, with each tenant's shares; tenants with nothing in between are left out. */
export function activityBetween(base: Map<string, TenantTotals>, current: Map<string, TenantTotals>): TenantActivityView[] {
  const rows = [...current].flatMap(([tenant, now]) => {
    const before = base.get(tenant) ?? { starts: 0, tokens: 0 };
    // A counter lower than its sample was reset (a new Redis): count from zero.
    const starts = now.starts >= before.starts ? now.starts - before.starts : now.starts;
    const tokens = now.tokens >= before.tokens ? now.tokens - before.tokens : now.tokens;
    return starts > 0 || tokens > 0 ? [{ tenant, starts, tokens }] : [];
  });
  const allStarts = rows.reduce((sum, row) => sum + row.starts, 0);
  const allTokens = rows.reduce((sum, row) => sum + row.tokens, 0);
  return rows
    .map((row) => ({ ...row, startShare: allStarts > 0 ? row.starts / allStarts : 0, tokenShare: allTokens > 0 ? row.tokens / allTokens : 0 }))
    .sort((a, b) => b.tokens - a.tokens || (a.tenant < b.tenant ? -1 : 1));
}

export type TenantActivity = ReturnType<typeof createTenantActivity>;

export function createTenantActivity(options: TenantActivityOptions) {
  const now = options.now ?? Date.now;
  const keepMs = MAX_ACTIVITY_MINUTES * 60_000;
  const samples: Sample[] = [];
  let timer: NodeJS.Timeout | null = null;

  async function sample(): Promise<void> {
    try {
      const totals = totalsByTenant(await options.read());
      const at = now();
      samples.push({ at, totals });
      // One sample older than the longest window stays: it is that window's base.
      while (samples.length > 1 && samples[1]!.at <= at - keepMs) samples.shift();
    } catch (error) {
      options.logger.debug({ err: (error as Error).message }, 'tenant activity: counters unreadable; next sample later');
    }
  }

  /** The newest sample taken at or before `at`, else the oldest there is (the server is younger than the window). */
  function baseFor(at: number): Sample | undefined {
    for (let i = samples.length - 1; i >= 0; i -= 1) if (samples[i]!.at <= at) return samples[i];
    return samples[0];
  }

  return {
    /** Takes the first sample now, then one every `sampleMs`. */
    start(): void {
      if (timer) return;
      void sample();
      timer = setInterval(() => void sample(), options.sampleMs);
      timer.unref();
    },

    /** Starts and tokens per tenant over the last `minutes` (or since this server started, if later). Throws when Redis cannot be read. */
    async activity(minutes: number): Promise<TenantActivityView[]> {
      const current = totalsByTenant(await options.read());
      const base = baseFor(now() - minutes * 60_000);
      return activityBetween(base?.totals ?? current, current);
    },

    dispose(): void {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
