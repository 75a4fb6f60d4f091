/**
 * The fair dispatcher end to end, with a real server, real workers and the fake provider:
 * positions shown by a subscription fall as the tasks ahead start, with no polling (`taskUpdated`
 * and `taskStandingsUpdated`); a paused tenant's task shows why it waits and gets its place back
 * live; the estimated start of a task about 40 starts back is within 25 % of when it starts; a
 * tenant arriving behind a flood of another's tasks is not held behind it; tenantActivity and
 * /metrics count both.
 */
import { describe, expect, it } from 'vitest';
import { useSystem } from './support/fixtures.ts';
import { defaultAnswer } from '../tools/fake-openrouter.ts';
import { graphql, metricSample, SAMPLE_TEXT, subscribe } from './support/system.ts';
import { elapse, waitFor } from './support/wait-for.ts';

const KEYS = {
  acme: 'acme-live-key-0123456789',
  globex: 'globex-live-key-012345678',
  initech: 'initech-live-key-01234567',
  flood: 'flood-live-key-012345678',
  light: 'light-live-key-012345678',
  admin: 'admin-live-key-012345678',
};
const API_KEYS = JSON.stringify([
  ...(['acme', 'globex', 'initech', 'flood', 'light'] as const).map((tenant) => ({ key: KEYS[tenant], tenant, scopes: ['tasks:write', 'tasks:read'] })),
  { key: KEYS.admin, tenant: 'ops', scopes: ['admin', 'tasks:read', 'tasks:write'] },
]);

const system = useSystem({
  fake: true,
  server: { API_KEYS, STANDING_REFRESH_MS: '100', START_RATE_WINDOW_MS: '2000', TENANT_ACTIVITY_SAMPLE_MS: '200' },
});

/** Every provider call takes `ms`: a worker drains its queue at a steady rate. */
const providerTakes = (ms: number) => system.fake.script((request) => ({ ...defaultAnswer(request), delayMs: ms }));
const ws = (key: string) => system.wsClient(undefined, { connectionParams: { authorization: `Bearer ${key}` } });

/** Submits `count` tasks as `key`, ten to a request (GRAPHQL_MAX_SUBMITS); their ids in submit order. */
async function submitMany(key: string, count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let from = 0; from < count; from += 10) {
    const batch = Array.from({ length: Math.min(10, count - from) }, (_, i) => `t${i}: submitTask(input: { content: "${label} ${from + i}. ${SAMPLE_TEXT}" }) { id }`);
    const answer = await graphql<Record<string, { id: string }>>(system.server, `mutation { ${batch.join(' ')} }`, {}, key);
    if (!answer.data) throw new Error(JSON.stringify(answer.errors));
    ids.push(...batch.map((_, i) => answer.data![`t${i}`]!.id));
  }
  return ids;
}

interface LiveTask {
  id: string;
  version: number;
  state: string;
  queuePosition: number | null;
  waitReason: string | null;
  estimatedStartAt: string | null;
  standingAt: string | null;
}
interface Standing {
  taskId: string;
  queuePosition: number | null;
  waitReason: string | null;
  estimatedStartAt: string | null;
  at: string;
}
const TASK_UPDATED = 'subscription ($id: ID!) { taskUpdated(id: $id) { id version state queuePosition waitReason estimatedStartAt standingAt } }';
const STANDINGS = 'subscription ($ids: [ID!]!) { taskStandingsUpdated(ids: $ids) { taskId queuePosition waitReason estimatedStartAt at } }';

/** The positions a feed showed, each once, in order (a repeat of the last one is dropped). */
const positionsShown = (events: { queuePosition: number | null }[]) =>
  events.map((event) => event.queuePosition).filter((position, i, all) => i === 0 || position !== all[i - 1]);

describe('live standings', () => {
  it('shows positions falling by one for each start ahead, over taskUpdated and taskStandingsUpdated', async () => {
    providerTakes(250);
    const ids = await submitMany(KEYS.acme, 6, 'Ahead');
    const target = ids[5]!;
    const watch = subscribe<LiveTask>(ws(KEYS.acme), TASK_UPDATED, { id: target }, 'taskUpdated');
    const standings = subscribe<Standing>(ws(KEYS.acme), STANDINGS, { ids: [ids[2], target] }, 'taskStandingsUpdated');
    await watch.waitFor((task) => task.queuePosition === 5);
    await standings.waitFor((standing) => standing.taskId === ids[2] && standing.queuePosition === 2);

    // One slot: starts come a provider call apart, longer than STANDING_REFRESH_MS.
    await system.startWorker({ WORKER_CONCURRENCY: '1' });
    await watch.waitFor((task) => task.state === 'ACTIVE', 15_000);
    const waiting = watch.events.filter((task) => task.state === 'PENDING');
    expect(positionsShown(waiting)).toEqual([5, 4, 3, 2, 1, 0]);
    // The same version each time: the standing changed, not the task.
    expect(new Set(waiting.map((task) => task.version)).size).toBe(1);
    expect(waiting.every((task) => task.waitReason === 'QUEUED')).toBe(true);
    const standingTimes = waiting.map((task) => Date.parse(task.standingAt!));
    expect(standingTimes).toEqual([...standingTimes].sort((a, b) => a - b));
    // Once tasks have started there is a rate, so an estimate.
    expect(waiting.at(-1)!.estimatedStartAt).not.toBeNull();
    expect(watch.events.at(-1)).toMatchObject({ state: 'ACTIVE', queuePosition: null, waitReason: null, standingAt: null });

    await standings.waitFor((standing) => standing.taskId === target && standing.waitReason === null, 15_000);
    const of = (id: string) => standings.events.filter((standing) => standing.taskId === id);
    expect(positionsShown(of(ids[2]!))).toEqual([2, 1, 0, null]);
    expect(positionsShown(of(target))).toEqual([5, 4, 3, 2, 1, 0, null]);
    expect(watch.errors).toEqual([]);
    expect(standings.errors).toEqual([]);
  });

  it("leaves another tenant's tasks out of taskStandingsUpdated, as missing ones", async () => {
    const [theirs] = await submitMany(KEYS.acme, 1, 'Theirs');
    const [mine] = await submitMany(KEYS.globex, 1, 'Mine');
    // The ids' order is the order of the first standings: the other tenant's would come first.
    const feed = subscribe<Standing>(ws(KEYS.globex), STANDINGS, { ids: [theirs, mine] }, 'taskStandingsUpdated');
    await feed.waitFor((standing) => standing.taskId === mine);
    expect(feed.events.map((standing) => standing.taskId)).not.toContain(theirs);
    const tooMany = subscribe<Standing>(ws(KEYS.globex), STANDINGS, { ids: Array.from({ length: 101 }, (_, i) => `id-${i}`) }, 'taskStandingsUpdated');
    await waitFor(() => tooMany.errors.length > 0, { message: 'more than 100 ids to be refused' });
    expect(tooMany.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });

  it("shows a paused tenant's task as TENANT_PAUSED without a position, and its place live once resumed", async () => {
    const setPolicy = (paused: boolean) =>
      graphql(system.server, 'mutation ($p: Boolean) { setTenantPolicy(tenant: "initech", input: { paused: $p }) { paused } }', { p: paused }, KEYS.admin);
    await setPolicy(true);
    const [id] = await submitMany(KEYS.initech, 1, 'Paused');
    const watch = subscribe<LiveTask>(ws(KEYS.initech), TASK_UPDATED, { id }, 'taskUpdated');
    await watch.waitFor((task) => task.waitReason === 'TENANT_PAUSED');
    expect(watch.events[0]).toMatchObject({ state: 'PENDING', queuePosition: null, estimatedStartAt: null });
    // No worker runs now: resumed, the task keeps waiting, with a place.
    await setPolicy(false);
    const resumed = await watch.waitFor((task) => task.waitReason === 'QUEUED');
    expect(resumed.queuePosition).toEqual(expect.any(Number));
    expect(resumed.version).toBe(watch.events[0]!.version);
  });
});

interface Started {
  id: string;
  createdAt: string;
  startedAt: string | null;
  history: { state: string; at: string }[];
}

/** Every task of the key's tenant, with its history, read page by page. */
async function tasksOf(key: string): Promise<Started[]> {
  const all: Started[] = [];
  let after: string | null = null;
  for (;;) {
    const answer: Awaited<ReturnType<typeof graphql<{ tasks: { nodes: Started[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>>> = await graphql(
      system.server,
      'query ($after: String) { tasks(first: 100, after: $after, order: OLDEST_FIRST) { nodes { id createdAt startedAt history { state at } } pageInfo { hasNextPage endCursor } } }',
      { after },
      key,
    );
    if (!answer.data) throw new Error(JSON.stringify(answer.errors));
    all.push(...answer.data.tasks.nodes);
    if (!answer.data.tasks.pageInfo.hasNextPage) return all;
    after = answer.data.tasks.pageInfo.endCursor;
  }
}

/** When a task first started, from its history; null while it has not. */
const firstStart = (task: Started) => {
  const active = task.history.find((entry) => entry.state === 'ACTIVE');
  return active ? Date.parse(active.at) : null;
};

describe('cost', () => {
  it('reads no standing for a taskUpdated that does not show one, however much changes', async () => {
    const [waiting] = await submitMany(KEYS.globex, 1, 'Watched');
    const monitor = await system.redis.client.monitor();
    let reads = 0;
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (/^eval/i.test(args[0] ?? '') && args.includes(system.keys.dispatchCapWake())) reads += 1;
    });
    try {
      const plain = subscribe<LiveTask>(ws(KEYS.globex), 'subscription ($id: ID!) { taskUpdated(id: $id) { id version state } }', { id: waiting }, 'taskUpdated');
      await plain.waitFor((task) => task.state === 'PENDING');
      await submitMany(KEYS.globex, 3, 'Hint');
      // Several refresh intervals (STANDING_REFRESH_MS is 100 here) with changes on the tasks channel.
      await elapse(500);
      expect(reads).toBe(0);
      // The same watch showing its position reads it, and again after changes.
      const shown = subscribe<LiveTask>(ws(KEYS.globex), TASK_UPDATED, { id: waiting }, 'taskUpdated');
      await shown.waitFor((task) => task.queuePosition !== null);
      await submitMany(KEYS.globex, 1, 'Hint');
      await waitFor(() => reads >= 2, { message: 'the followed standing to be read again after a change' });
    } finally {
      monitor.disconnect();
    }
  });
});

describe('estimated start', () => {
  it('puts the start of a task about 40 starts back within 25 % of when it actually starts, for a queue drained at a steady rate', async () => {
    // A rate window of 6 s (an API server of its own): long enough that a loaded machine's
    // hiccups average out, as they do in production's 30 s.
    const server = await system.startServer({ API_KEYS, START_RATE_WINDOW_MS: '6000', STANDING_REFRESH_MS: '100' });
    providerTakes(250);
    const ids = await submitMany(KEYS.globex, 200, 'Steady');
    const startedBefore = new Set((await tasksOf(KEYS.globex)).filter((task) => task.startedAt !== null).map((task) => task.id));
    await system.startWorker({ WORKER_CONCURRENCY: '2' });
    // The server measures the rate over START_RATE_WINDOW_MS: let a window of steady starts pass.
    await waitFor(
      async () => {
        const started = (await tasksOf(KEYS.globex)).filter((task) => task.startedAt !== null && !startedBefore.has(task.id)).map((task) => Date.parse(task.startedAt!));
        return started.length > 0 && Date.now() - Math.min(...started) > 6500;
      },
      { timeoutMs: 20_000, intervalMs: 200, message: 'the worker to have run a whole rate window' },
    );
    const list = await graphql<{ tasks: { nodes: { id: string; queuePosition: number | null; estimatedStartAt: string | null; standingAt: string | null }[] } }>(
      server,
      '{ tasks(first: 100, state: PENDING, order: OLDEST_FIRST) { nodes { id queuePosition estimatedStartAt standingAt } } }',
      {},
      KEYS.globex,
    );
    const waiting = list.data!.tasks.nodes.filter((task) => ids.includes(task.id) && task.queuePosition !== null);
    const target = waiting.reduce((best, task) => (Math.abs(task.queuePosition! - 40) < Math.abs(best.queuePosition! - 40) ? task : best));
    expect(Math.abs(target.queuePosition! - 40)).toBeLessThanOrEqual(2);
    expect(target.estimatedStartAt).not.toBeNull();
    const readAt = Date.parse(target.standingAt!);
    const predicted = Date.parse(target.estimatedStartAt!) - readAt;

    const started = await waitFor(async () => (await tasksOf(KEYS.globex)).find((task) => task.id === target.id && task.startedAt !== null), {
      timeoutMs: 40_000,
      intervalMs: 50,
      message: 'the task read at position ~40 to start',
    });
    const actual = Date.parse(started.startedAt!) - readAt;
    expect(Math.abs(actual - predicted) / actual, `predicted ${predicted} ms, started after ${actual} ms`).toBeLessThanOrEqual(0.25);
  }, 90_000);
});

describe('a tenant behind a flood', () => {
  it('starts at most 3 of the flooding tenant per task of its own between its first submit and its last start, and both show in tenantActivity and /metrics', async () => {
    providerTakes(10);
    await system.startWorker({ WORKER_CONCURRENCY: '2' });
    await submitMany(KEYS.flood, 300, 'Flood');
    const light = await submitMany(KEYS.light, 8, 'Light');
    const lightTasks = await waitFor(
      async () => {
        const tasks = await tasksOf(KEYS.light);
        return tasks.length === light.length && tasks.every((task) => firstStart(task) !== null) ? tasks : null;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: "the light tenant's tasks to start" },
    );
    const from = Math.min(...lightTasks.map((task) => Date.parse(task.createdAt)));
    const to = Math.max(...lightTasks.map((task) => firstStart(task)!));
    const floodTasks = await waitFor(
      async () => {
        const tasks = await tasksOf(KEYS.flood);
        return tasks.every((task) => firstStart(task) !== null) ? tasks : null;
      },
      { timeoutMs: 60_000, intervalMs: 200, message: "the flood's tasks to start" },
    );
    const floodStarts = floodTasks.map((task) => firstStart(task)!);
    const between = floodStarts.filter((at) => at >= from && at <= to).length;
    expect(between).toBeLessThanOrEqual(3 * light.length);
    // The flood still had work waiting when the light tenant was done: the test means something.
    expect(floodStarts.filter((at) => at > to).length).toBeGreaterThan(100);

    const ACTIVITY = '{ tenantActivity(minutes: 5) { tenant starts tokens startShare tokenShare } }';
    type Row = { tenant: string; starts: number; tokens: number; startShare: number; tokenShare: number };
    const all = await graphql<{ tenantActivity: Row[] }>(system.server, ACTIVITY, {}, KEYS.admin);
    const rows = new Map(all.data!.tenantActivity.map((row) => [row.tenant, row]));
    expect(rows.get('flood')!.starts).toBe(300);
    expect(rows.get('light')!.starts).toBe(8);
    expect(rows.get('light')!.tokens).toBeGreaterThan(8 * 1024);
    const shares = all.data!.tenantActivity.reduce((sum, row) => sum + row.startShare, 0);
    expect(shares).toBeCloseTo(1, 6);
    const own = await graphql<{ tenantActivity: Row[] }>(system.server, ACTIVITY, {}, KEYS.light);
    expect(own.data!.tenantActivity.map((row) => row.tenant)).toEqual(['light']);
    const tooLong = await graphql(system.server, '{ tenantActivity(minutes: 61) { tenant } }', {}, KEYS.admin);
    expect(tooLong.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    expect(await metricSample(system.server, 'atf_dispatch_starts_total{tenant="flood",priority="NORMAL"}')).toBe(300);
    expect(await metricSample(system.server, 'atf_dispatch_starts_total{tenant="light",priority="NORMAL"}')).toBe(8);
  }, 90_000);
});
