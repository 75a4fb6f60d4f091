/**
 * The Tenants view's figures: `tenantPolicies` (an admin sees every tenant with a policy or work,
 * a tenant's key its own) and `tenantActivity(minutes)`, read again when they may have moved,
 * and only then, as the Spend card does (create-spend.ts).
 *
 * Neither is live on the server, but the task feed is: a task submitted, started, ended, retried
 * or deleted changes some tenant's running and waiting counts, and a start adds to its starts and
 * tokens. Such a change asks for a read, at most one per `minIntervalMs` with one trailing read,
 * so a burst costs two reads and the last change is never missed; progress updates ask for
 * nothing. So do a reconnect (the feed says it is live again: what happened meanwhile was not
 * streamed), another window, and a policy change made here (`refresh`). No timer loop: an idle
 * system is never read.
 */
import { createQuery } from '@urql/solid';
import { createEffect, createMemo, createSignal, on, onCleanup, type Accessor } from 'solid-js';
import { errorMessage } from '../format.ts';
import { TenantsQuery } from '../graphql/dispatch.ts';
import { createStateWatch } from '../state-watch.ts';
import { tenantRows, type TenantRow } from '../tenants-model.ts';
import { createLiveTasks } from './create-live-tasks.ts';
import type { FrameScheduler } from './frame-batcher.ts';
import { createThrottle } from './throttle.ts';

/** The shortest time between two reads the task feed asks for. */
export const TENANTS_REFRESH_MS = 2_000;

export interface TenantsOptions {
  /** The window of the starts and tokens, in minutes (1 to 60). */
  minutes: Accessor<number>;
  /** Default TENANTS_REFRESH_MS. */
  minIntervalMs?: number;
  /** Frames for the task feed's batches (tests run them by hand). */
  schedule?: FrameScheduler;
}

/** The tenants' rows (tenants-model.ts) for the window `minutes()`, read again as the file comment says; `refresh` reads now. */
export function createTenants(options: TenantsOptions) {
  const [result, refetch] = createQuery({ query: TenantsQuery, variables: () => ({ minutes: options.minutes() }) });
  const [readAt, setReadAt] = createSignal<number | null>(null);
  const refresh = () => refetch({ requestPolicy: 'network-only' });
  createEffect(
    on(
      () => result.fetching,
      (fetching, was) => {
        if (was && !fetching && !result.error) setReadAt(Date.now());
      },
    ),
  );

  const throttle = createThrottle(refresh, options.minIntervalMs ?? TENANTS_REFRESH_MS);
  onCleanup(() => throttle.dispose());
  // Every state a task enters moves a count: PENDING adds to waiting, ACTIVE moves one to running
  // (and adds a start), every other ends an attempt or a wait.
  const moved = createStateWatch(() => true);
  createLiveTasks({
    onBatch: (changes) => {
      const updates = changes.flatMap((change) => (change.kind === 'update' ? [change.task] : []));
      if (moved(updates) || updates.length < changes.length) throttle.call();
    },
    onLive: () => throttle.call(),
    schedule: options.schedule,
  });

  const rows = createMemo((): TenantRow[] => tenantRows(result.data?.tenantPolicies ?? [], result.data?.tenantActivity ?? []));
  return {
    rows,
    /** True until the first answer. */
    loading: () => result.fetching && !result.data,
    /** True while any read is on its way (the figures shown stay until it answers). */
    reading: () => result.fetching,
    error: () => (result.error ? errorMessage(result.error) : null),
    /** When the figures shown were read (ms), or null before the first answer. */
    readAt,
    /** Reads again now (Refresh, a policy just changed). */
    refresh,
  };
}

export type Tenants = ReturnType<typeof createTenants>;
