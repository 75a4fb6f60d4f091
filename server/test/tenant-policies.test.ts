/**
 * Tenant policies and where waiting tasks stand, over HTTP with a real server and no worker (so
 * tasks wait): only an admin sets a policy, every attempt is audited, bad input (hostile tenant
 * names included) is refused and stores nothing; a tenant's key sees its own policy only; a
 * task's priority round-trips; a waiting task says why it waits and where it stands, a paused
 * tenant's task has no position, and a list's standings cost one positions() read.
 */
import { describe, expect, it } from 'vitest';
import { useSystem } from '../../test/support/fixtures.ts';
import { graphql, SAMPLE_TEXT, submitTask } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const KEYS = { acme: 'acme-policy-key-012345678', globex: 'globex-policy-key-0123456', initech: 'initech-policy-key-012345', admin: 'admin-policy-key-01234567' };
const API_KEYS = JSON.stringify([
  { key: KEYS.acme, tenant: 'acme', scopes: ['tasks:write', 'tasks:read'] },
  { key: KEYS.globex, tenant: 'globex', scopes: ['tasks:write', 'tasks:read'] },
  { key: KEYS.initech, tenant: 'initech', scopes: ['tasks:write', 'tasks:read'] },
  { key: KEYS.admin, tenant: 'ops', scopes: ['admin', 'tasks:read', 'tasks:write'] },
]);

const system = useSystem({ server: { API_KEYS } });

const POLICY_FIELDS = 'tenant weight maxConcurrency paused active waiting';
const SET_POLICY = `mutation ($tenant: String!, $input: TenantPolicyInput!) { setTenantPolicy(tenant: $tenant, input: $input) { ${POLICY_FIELDS} } }`;
const POLICIES = `{ tenantPolicies { ${POLICY_FIELDS} } }`;
const STANDING = 'id state priority waitReason queuePosition estimatedStartAt standingAt';

interface Policy {
  tenant: string;
  weight: number;
  maxConcurrency: number | null;
  paused: boolean;
  active: number;
  waiting: number;
}
interface TaskStanding {
  id: string;
  state: string;
  priority: string;
  waitReason: string | null;
  queuePosition: number | null;
  estimatedStartAt: string | null;
  standingAt: string | null;
}

const setPolicy = (tenant: string, input: Record<string, unknown>, key = KEYS.admin) => graphql<{ setTenantPolicy: Policy }>(system.server, SET_POLICY, { tenant, input }, key);
const policies = async (key: string) => {
  const answer = await graphql<{ tenantPolicies: Policy[] }>(system.server, POLICIES, {}, key);
  if (!answer.data) throw new Error(JSON.stringify(answer.errors));
  return answer.data.tenantPolicies;
};
const submit = async (key: string, extra: Record<string, unknown> = {}) => (await submitTask(system.server, `${SAMPLE_TEXT} ${Math.random()}`, extra, key)).id;
const standing = async (id: string, key: string) => {
  const answer = await graphql<{ task: TaskStanding }>(system.server, `query ($id: ID!) { task(id: $id) { ${STANDING} } }`, { id }, key);
  if (!answer.data) throw new Error(JSON.stringify(answer.errors));
  return answer.data.task;
};
const auditEntries = async (action: string) => {
  const answer = await graphql<{ auditLog: { nodes: { action: string; actor: string; target: string | null; detail: string | null }[] } }>(
    system.server,
    '{ auditLog(first: 100) { nodes { action actor target detail } } }',
    {},
    KEYS.admin,
  );
  return answer.data!.auditLog.nodes.filter((entry) => entry.action === action);
};

describe('setTenantPolicy', () => {
  it('is for admins only, applies at once, and leaves an audit record of every attempt', async () => {
    const refused = await setPolicy('acme', { weight: 5 }, KEYS.acme);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await policies(KEYS.acme))[0]).toMatchObject({ tenant: 'acme', weight: 1, maxConcurrency: null, paused: false });

    const set = await setPolicy('acme', { weight: 3, maxConcurrency: 2 });
    expect(set.data?.setTenantPolicy).toEqual({ tenant: 'acme', weight: 3, maxConcurrency: 2, paused: false, active: 0, waiting: 0 });
    // Fields left out keep their value; a null cap removes the cap.
    expect((await setPolicy('acme', { maxConcurrency: null })).data?.setTenantPolicy).toMatchObject({ weight: 3, maxConcurrency: null });

    const records = await auditEntries('setTenantPolicy');
    expect(records.map((record) => [record.target, record.detail])).toEqual([
      ['tenant="acme" maxConcurrency=null', 'weight=3 maxConcurrency=null paused=false'],
      ['tenant="acme" weight=3 maxConcurrency=2', 'weight=3 maxConcurrency=2 paused=false'],
      ['tenant="acme" weight=5', 'failed: FORBIDDEN'],
    ]);
  });

  it('refuses a weight, cap or flag out of range, and a tenant name an API key could not have, changing nothing', async () => {
    const before = await system.redis.client.hgetall(system.keys.dispatchState());
    const hostile = ['*', 'a:b', '{x}', 'x'.repeat(256), 'Mandant-ü-租户', '', 'a\tweight', 'acme ', '../acme'];
    const attempts: [string, Record<string, unknown>, string][] = [
      ['globex', { weight: 0 }, 'weight'],
      ['globex', { weight: 1001 }, 'weight'],
      ['globex', { weight: null }, 'weight'],
      ['globex', { maxConcurrency: 0 }, 'maxConcurrency'],
      ['globex', { maxConcurrency: -3 }, 'maxConcurrency'],
      ['globex', { paused: null }, 'paused'],
      ['globex', { weight: 2, maxConcurrency: 0 }, 'maxConcurrency'],
      ...hostile.map((tenant): [string, Record<string, unknown>, string] => [tenant, { paused: true }, 'tenant']),
    ];
    for (const [tenant, input, reason] of attempts) {
      const answer = await setPolicy(tenant, input);
      expect(answer.errors?.[0]?.extensions, `${JSON.stringify(tenant)} ${JSON.stringify(input)}`).toMatchObject({ code: 'BAD_USER_INPUT', details: { reason } });
    }
    expect(await system.redis.client.hgetall(system.keys.dispatchState())).toEqual(before);
    expect((await policies(KEYS.admin)).map((policy) => policy.tenant)).not.toContain('globex');
    const failures = (await auditEntries('setTenantPolicy')).filter((record) => record.detail === 'failed: BAD_USER_INPUT');
    expect(failures).toHaveLength(attempts.length);
    // A long refused name is cut short in the record; a tab shows as \t.
    expect(failures.every((record) => record.target!.length < 200)).toBe(true);
    expect(failures.map((record) => record.target)).toContain('tenant="a\\tweight" paused=true');
  });
});

describe('tenantPolicies', () => {
  it('shows an admin every tenant with a policy or work, and a tenant only its own, defaults included', async () => {
    await submit(KEYS.initech);
    await setPolicy('globex', { weight: 7 });
    const all = await policies(KEYS.admin);
    expect(all.map((policy) => policy.tenant)).toEqual(['acme', 'globex', 'initech']);
    expect(all.find((policy) => policy.tenant === 'initech')).toEqual({ tenant: 'initech', weight: 1, maxConcurrency: null, paused: false, active: 0, waiting: 1 });
    expect(await policies(KEYS.globex)).toEqual([{ tenant: 'globex', weight: 7, maxConcurrency: null, paused: false, active: 0, waiting: 0 }]);
    expect(await policies(KEYS.initech)).toEqual([all.find((policy) => policy.tenant === 'initech')]);
    // A tenant cannot set another's policy either: the answer names the scope, not the tenant.
    const refused = await setPolicy('globex', { paused: true }, KEYS.initech);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await policies(KEYS.globex))[0]!.paused).toBe(false);
  });
});

describe('where a waiting task stands', () => {
  it('keeps the priority it was submitted with, NORMAL by default', async () => {
    const high = await submitTask(system.server, `${SAMPLE_TEXT} High.`, { priority: 'HIGH' }, KEYS.globex);
    const plain = await submit(KEYS.globex);
    expect((await standing(high.id, KEYS.globex)).priority).toBe('HIGH');
    expect((await standing(plain, KEYS.globex)).priority).toBe('NORMAL');
    const low = await submitTask(system.server, `${SAMPLE_TEXT} Low.`, { priority: 'LOW' }, KEYS.globex);
    expect((await standing(low.id, KEYS.globex)).priority).toBe('LOW');
  });

  it('says a queued task waits behind others, how many start before it, and when it read that', async () => {
    const ids = [await submit(KEYS.acme), await submit(KEYS.acme), await submit(KEYS.acme, { priority: 'HIGH' })];
    const [first, second, urgent] = await Promise.all(ids.map((id) => standing(id, KEYS.acme)));
    for (const task of [first!, second!, urgent!]) {
      expect(task.waitReason).toBe('QUEUED');
      expect(Math.abs(Date.parse(task.standingAt!) - Date.now())).toBeLessThan(5000);
    }
    // HIGH passes its own tenant's NORMAL tasks: it stands before both (other tenants' tasks may come between).
    expect(urgent!.queuePosition!).toBeLessThan(first!.queuePosition!);
    expect(second!.queuePosition!).toBeGreaterThan(first!.queuePosition!);
    // Nothing has started on this system: no rate, no estimate.
    expect(first!.estimatedStartAt).toBeNull();
  });

  it("gives a paused tenant's task TENANT_PAUSED and no position, and a place again once resumed", async () => {
    await setPolicy('initech', { paused: true });
    const id = await submit(KEYS.initech);
    expect(await standing(id, KEYS.initech)).toMatchObject({ state: 'PENDING', waitReason: 'TENANT_PAUSED', queuePosition: null, estimatedStartAt: null });
    await setPolicy('initech', { paused: false });
    const resumed = await standing(id, KEYS.initech);
    expect(resumed.waitReason).toBe('QUEUED');
    expect(resumed.queuePosition).toEqual(expect.any(Number));
  });

  it("answers another tenant's task as missing, standing included", async () => {
    const id = await submit(KEYS.acme);
    const answer = await graphql<{ task: TaskStanding | null }>(system.server, `query ($id: ID!) { task(id: $id) { ${STANDING} } }`, { id }, KEYS.globex);
    expect(answer).toMatchObject({ data: { task: null } });
    expect(answer.errors).toBeUndefined();
  });

  it('reads the standings of a whole list in one positions() call, and none for tasks that do not wait', async () => {
    for (let i = 0; i < 5; i += 1) await submit(KEYS.globex);
    const monitor = await system.redis.client.monitor();
    const reads: string[][] = [];
    const seen = new Set<string>();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'echo') seen.add(args[1]!);
      if (/^eval/i.test(args[0] ?? '') && args.includes(system.keys.dispatchCapWake())) reads.push(args);
    });
    try {
      const list = await graphql<{ tasks: { nodes: TaskStanding[] } }>(system.server, `{ tasks(first: 50) { nodes { ${STANDING} } } }`, {}, KEYS.globex);
      expect(list.data!.tasks.nodes.length).toBeGreaterThanOrEqual(8);
      expect(list.data!.tasks.nodes.every((task) => task.waitReason === 'QUEUED' && task.queuePosition !== null)).toBe(true);
      const positions = list.data!.tasks.nodes.map((task) => task.queuePosition);
      expect(new Set(positions).size).toBe(positions.length);
      // MONITOR shows commands in the order they ran: once it shows this one, it has shown the reads.
      const mark = `mark-${Math.random()}`;
      await system.redis.client.echo(mark);
      await waitFor(() => seen.has(mark), { message: 'MONITOR to catch up' });
    } finally {
      monitor.disconnect();
    }
    expect(reads).toHaveLength(1);
  });
});
