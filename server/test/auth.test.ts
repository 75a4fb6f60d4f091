/**
 * API keys, scopes and tenants, end to end over HTTP and WebSocket: unknown and revoked keys
 * look the same, a key sees only its tenant (another tenant's task answers exactly like a
 * missing one), queue-wide views and operator actions need admin and leave audit records,
 * keys made with `npm run keys` work and can be revoked on open sockets too.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { randomPrefix, useSystem } from '../../test/support/fixtures.ts';
import { SAMPLE_TEXT, TASK_FIELDS, getTask, graphql, rawGraphQL, submitTask, subscribe, type RunningServer } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { hashKey, keyIdOf } from '../auth/api-keys.ts';

const ROOT = join(import.meta.dirname, '..', '..');

const KEYS = {
  a: 'tenant-a-key-0123456789',
  aReadOnly: 'tenant-a-reader-0123456789',
  b: 'tenant-b-key-0123456789',
  admin: 'operator-admin-key-0123456789',
  revocable: 'tenant-a-revocable-0123456789',
};
const API_KEYS = JSON.stringify([
  { key: KEYS.a, tenant: 'acme', scopes: ['tasks:write', 'tasks:read'] },
  { key: KEYS.aReadOnly, tenant: 'acme', scopes: ['tasks:read'] },
  { key: KEYS.b, tenant: 'globex', scopes: ['tasks:write', 'tasks:read'] },
  { key: KEYS.admin, tenant: 'ops', scopes: ['admin', 'tasks:read', 'tasks:write'] },
  { key: KEYS.revocable, tenant: 'acme', scopes: ['tasks:read'] },
]);

const system = useSystem({ server: { API_KEYS, WS_MAX_CONNECTIONS_PER_KEY: '3', WS_INIT_TIMEOUT_MS: '300', WS_REAUTH_MS: '200' } });
const { keys } = system;

const rawPost = (body: unknown, headers: Record<string, string> = {}) => rawGraphQL(system.server, body, headers);

/**
 * Opens a raw graphql-ws socket, sends connection_init with `connectionParams` (unless null)
 * and reports how it went: acknowledged (the socket is handed back open), or closed with a code.
 */
function initOutcome(connectionParams: Record<string, unknown> | null): Promise<{ ack: WebSocket } | { code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(system.server.wsUrl, 'graphql-transport-ws');
    socket.once('open', () => {
      if (connectionParams) socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams }));
    });
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') resolve({ ack: socket });
    });
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    socket.once('error', reject);
  });
}

const closeCode = async (connectionParams: Record<string, unknown> | null) => {
  const outcome = await initOutcome(connectionParams);
  if ('ack' in outcome) {
    outcome.ack.close();
    return 'ack';
  }
  return outcome.code;
};

const keysCli = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'keys.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: system.redis.url, REDIS_KEY_PREFIX: system.prefix },
  });

describe('authentication', () => {
  it('answers a missing, malformed, unknown and revoked key with the same 401', async () => {
    const query = { query: '{ viewer { tenant } }' };
    const answers = await Promise.all([
      rawPost(query),
      rawPost(query, { authorization: 'Basic dXNlcjpwYXNz' }),
      rawPost(query, { authorization: 'Bearer not-a-key-we-know-of' }),
      rawPost(query, { authorization: `Bearer ${KEYS.a}x` }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      expect(answer.body).toBe(answers[0]!.body);
    }
    expect(JSON.parse(answers[0]!.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('tells a key holder who they are', async () => {
    const { server } = system;
    const answer = await graphql<{ viewer: { tenant: string; scopes: string[]; authenticationRequired: boolean } }>(
      server,
      '{ viewer { tenant scopes authenticationRequired } }',
      {},
      KEYS.aReadOnly,
    );
    expect(answer.data?.viewer).toEqual({ tenant: 'acme', scopes: ['TASKS_READ'], authenticationRequired: true });
  });

  it('refuses a WebSocket without a valid key in connection_init (4403) or without connection_init (4408)', async () => {
    expect(await closeCode({})).toBe(4403);
    expect(await closeCode({ authorization: 'Bearer nope-nope-nope-nope' })).toBe(4403);
    expect(await closeCode({ authorization: KEYS.a })).toBe(4403);
    expect(await closeCode(null)).toBe(4408);
    expect(await closeCode({ authorization: `Bearer ${KEYS.a}` })).toBe('ack');
  });

  it('caps the connections one key may hold, and frees a place when one closes', async () => {
    const open = await Promise.all([1, 2, 3].map(() => initOutcome({ authorization: `Bearer ${KEYS.b}` })));
    const sockets = open.map((outcome) => ('ack' in outcome ? outcome.ack : null));
    expect(sockets.every(Boolean)).toBe(true);
    const refused = await initOutcome({ authorization: `Bearer ${KEYS.b}` });
    expect(refused).toMatchObject({ code: 4403, reason: 'at most 3 connections per API key' });
    // Another key is not affected.
    expect(await closeCode({ authorization: `Bearer ${KEYS.a}` })).toBe('ack');
    sockets[0]!.close();
    await waitFor(async () => (await closeCode({ authorization: `Bearer ${KEYS.b}` })) === 'ack', { message: 'a free place' });
    for (const socket of sockets) socket!.close();
  });
});

describe('scopes', () => {
  const ADMIN_ONLY = [
    '{ queueStatus { primary } }',
    '{ deadLetterTasks { totalCount } }',
    '{ deadLetterCounts { errorClass count } }',
    '{ workers { id } }',
    '{ auditLog { nodes { id } } }',
    'mutation { retryDeadLetterTasks }',
    'mutation { purgeDeadLetterQueue(confirm: true) }',
    'mutation { resetCircuitBreakers { id } }',
    'mutation { openCircuitBreakers { id } }',
  ];

  it('keeps queue-wide views and operator actions to admin keys', async () => {
    const { server } = system;
    for (const query of ADMIN_ONLY) {
      const answer = await graphql(server, query, {}, KEYS.a);
      expect(answer.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
      expect(answer.data ?? null, query).toBeNull();
      const admin = await graphql(server, query, {}, KEYS.admin);
      expect(admin.errors, query).toBeUndefined();
    }
    // A refused operator action is audited too.
    const log = await graphql<{ auditLog: { nodes: { action: string; tenant: string; detail: string }[] } }>(server, '{ auditLog(first: 50) { nodes { action tenant detail } } }', {}, KEYS.admin);
    expect(log.data?.auditLog.nodes).toContainEqual({ action: 'purgeDeadLetterQueue', tenant: 'acme', detail: 'failed: FORBIDDEN' });
  });

  it('lets a read-only key read but not write, and a tenant key not open admin subscriptions', async () => {
    const { server, redis } = system;
    const before = await redis.client.zcard(keys.tasksAll());
    const denied = await graphql(server, 'mutation { submitTask(input: { content: "hello there, general" }) { id } }', {}, KEYS.aReadOnly);
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await redis.client.zcard(keys.tasksAll())).toBe(before);
    expect((await graphql(server, '{ tasks { totalCount } }', {}, KEYS.aReadOnly)).errors).toBeUndefined();

    const client = system.wsClient(server, { connectionParams: { authorization: `Bearer ${KEYS.a}` } });
    const feed = subscribe(client, 'subscription { queueStatusUpdated { primary } }', {}, 'queueStatusUpdated');
    await waitFor(() => feed.errors.length > 0, { message: 'the subscription to be refused' });
    expect(JSON.stringify(feed.errors)).toContain('FORBIDDEN');
  });

  it('guards the REST breaker reset: 401 without a key, 403 without admin, audited with admin', async () => {
    const { server } = system;
    const post = (headers: Record<string, string>) =>
      // As the runbook's curl sends it: no body, no content type.
      fetch(`${server.url}/health/workers/reset-circuit-breaker`, { method: 'POST', headers });
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: `Bearer ${KEYS.a}` })).status).toBe(403);
    expect((await post({ authorization: `Bearer ${KEYS.admin}` })).status).toBe(200);
    const log = await graphql<{ auditLog: { nodes: { action: string; actor: string; tenant: string }[] } }>(server, '{ auditLog(first: 5) { nodes { action actor tenant } } }', {}, KEYS.admin);
    expect(log.data?.auditLog.nodes[0]).toMatchObject({ action: 'POST /health/workers/reset-circuit-breaker', tenant: 'ops' });
    expect(log.data?.auditLog.nodes[0]?.actor).toMatch(/^k_[0-9a-f]{16}$/);
  });
});

describe('tenant isolation', () => {
  const TASK = `query ($id: ID!) { task(id: $id) { id } }`;
  const missingId = '00000000-0000-4000-8000-000000000000';

  /** The same operation on a missing id and on tenant A's id, as tenant B: the answers must match (ids aside). */
  async function sameAsMissing(query: string, variables: (id: string) => Record<string, unknown>, ownId: string) {
    const forMissing = await graphql(system.server, query, variables(missingId), KEYS.b);
    const forOther = await graphql(system.server, query, variables(ownId), KEYS.b);
    const normalise = (answer: unknown) => JSON.stringify(answer).replaceAll(missingId, '<id>').replaceAll(ownId, '<id>');
    expect(normalise(forOther), query).toBe(normalise(forMissing));
    return forOther;
  }

  it("runs every task operation with tenant B's key against tenant A's task: each answers like a missing task", async () => {
    const { server } = system;
    const own = await submitTask(server, `${SAMPLE_TEXT} Tenant A's secret plan.`, { idempotencyKey: 'shared-key' }, KEYS.a);
    const id = own.id;

    expect((await sameAsMissing(TASK, (x) => ({ id: x }), id)).data).toEqual({ task: null });
    for (const mutation of [
      'mutation ($id: ID!) { cancelTask(id: $id) { id } }',
      'mutation ($id: ID!) { retryTask(id: $id) { id } }',
      'mutation ($id: ID!) { retryTask(id: $id, resetRetryCount: true) { id } }',
    ]) {
      const answer = await sameAsMissing(mutation, (x) => ({ id: x }), id);
      expect(answer.errors?.[0]?.extensions?.code, mutation).toBe('NOT_FOUND');
    }
    expect((await sameAsMissing('mutation ($id: ID!) { deleteTask(id: $id) }', (x) => ({ id: x }), id)).data).toEqual({ deleteTask: false });
    const listing = await graphql<{ tasks: { totalCount: number; nodes: { id: string }[] } }>(server, `{ tasks(first: 100) { totalCount nodes { id } } }`, {}, KEYS.b);
    expect(listing.data?.tasks.nodes.map((node) => node.id)).not.toContain(id);
    const byPrefix = await graphql<{ tasks: { totalCount: number } }>(server, `query ($p: String!) { tasks(idPrefix: $p) { totalCount } }`, { p: id.slice(0, 8) }, KEYS.b);
    expect(byPrefix.data?.tasks.totalCount).toBe(0);
    for (const state of ['PENDING', 'ACTIVE', 'SCHEDULED', 'COMPLETED', 'DLQ', 'CANCELLED']) {
      const inState = await graphql<{ tasks: { nodes: { id: string }[] } }>(server, `query ($s: TaskState) { tasks(state: $s) { nodes { id } } }`, { s: state }, KEYS.b);
      expect(inState.data?.tasks.nodes.map((node) => node.id)).not.toContain(id);
    }

    // Subscriptions: the task's own feed fails as for a missing task; the all-task feeds stay silent.
    const client = system.wsClient(server, { connectionParams: { authorization: `Bearer ${KEYS.b}` } });
    const watch = (x: string) => subscribe(client, `subscription ($id: ID!) { taskUpdated(id: $id) { id } }`, { id: x }, 'taskUpdated');
    const [other, missing] = [watch(id), watch(missingId)];
    await waitFor(() => other.errors.length > 0 && missing.errors.length > 0, { message: 'both watches to be refused' });
    expect(JSON.stringify(other.errors).replaceAll(id, '<id>')).toBe(JSON.stringify(missing.errors).replaceAll(missingId, '<id>'));
    const output = (x: string) => subscribe(client, `subscription ($id: ID!) { taskOutput(id: $id) { text } }`, { id: x }, 'taskOutput');
    const [otherOutput, missingOutput] = [output(id), output(missingId)];
    await waitFor(() => otherOutput.errors.length > 0 && missingOutput.errors.length > 0, { message: 'both output feeds to be refused' });
    expect(JSON.stringify(otherOutput.errors).replaceAll(id, '<id>')).toBe(JSON.stringify(missingOutput.errors).replaceAll(missingId, '<id>'));
    const changes = subscribe<{ id: string }>(client, 'subscription { tasksUpdated { id } }', {}, 'tasksUpdated');
    const deletions = subscribe<string>(client, 'subscription { taskDeleted }', {}, 'taskDeleted');
    const adminClient = system.wsClient(server, { connectionParams: { authorization: `Bearer ${KEYS.admin}` } });
    const adminChanges = subscribe<{ id: string }>(adminClient, 'subscription { tasksUpdated { id } }', {}, 'tasksUpdated');
    // Every feed live before A's task changes, or the silence asserted below would prove nothing.
    await Promise.all([changes, deletions, adminChanges].map((feed) => feed.waitLive()));

    // Tenant B's own task with the same idempotency key is a different task (keys are per tenant).
    const theirs = await submitTask(server, `${SAMPLE_TEXT} Tenant B.`, { idempotencyKey: 'shared-key' }, KEYS.b);
    expect(theirs.id).not.toBe(id);
    await changes.waitFor((event) => event.id === theirs.id);
    // A's task changes (cancelled by A) and goes away (deleted by A): B hears nothing of it; an admin does.
    expect((await graphql(server, 'mutation ($id: ID!) { cancelTask(id: $id) { state } }', { id }, KEYS.a)).errors).toBeUndefined();
    await adminChanges.waitFor((event) => event.id === id);
    expect((await graphql(server, 'mutation ($id: ID!) { deleteTask(id: $id) }', { id }, KEYS.a)).data).toEqual({ deleteTask: true });
    await graphql(server, 'mutation ($id: ID!) { deleteTask(id: $id) }', { id: theirs.id }, KEYS.b);
    await deletions.waitFor((deleted) => deleted === theirs.id);
    expect(changes.events.map((event) => event.id)).not.toContain(id);
    expect(deletions.events).not.toContain(id);
  });

  it('lets an admin key see and act on any tenant, and records what it did', async () => {
    const { server } = system;
    const task = await submitTask(server, `${SAMPLE_TEXT} For the operator.`, {}, KEYS.a);
    expect((await getTask(server, task.id, KEYS.admin))?.id).toBe(task.id);
    const listing = await graphql<{ tasks: { nodes: { id: string }[] } }>(server, '{ tasks(first: 100) { nodes { id } } }', {}, KEYS.admin);
    expect(listing.data?.tasks.nodes.map((node) => node.id)).toContain(task.id);
    const cancelled = await graphql<{ cancelTask: { state: string } }>(server, `mutation ($id: ID!) { cancelTask(id: $id) { state } }`, { id: task.id }, KEYS.admin);
    expect(cancelled.data?.cancelTask.state).toBe('CANCELLED');
    const log = await graphql<{ auditLog: { nodes: { action: string; target: string; detail: string; tenant: string }[] } }>(
      server,
      '{ auditLog(first: 20) { nodes { action target detail tenant at actor id } } }',
      {},
      KEYS.admin,
    );
    expect(log.data?.auditLog.nodes).toContainEqual(expect.objectContaining({ action: 'cancelTask', target: task.id, detail: 'state=CANCELLED', tenant: 'ops' }));
    // The audit log names keys by id only.
    expect(JSON.stringify(log)).not.toContain(KEYS.admin);
    expect((await getTask(server, task.id, KEYS.b))).toBeNull();
  });

  it('counts per tenant: each sees its own totals', async () => {
    const { server } = system;
    const count = async (key: string) =>
      (await graphql<{ tasks: { totalCount: number } }>(server, '{ tasks { totalCount } }', {}, key)).data!.tasks.totalCount;
    const [beforeA, beforeB] = [await count(KEYS.a), await count(KEYS.b)];
    await submitTask(server, `${SAMPLE_TEXT} Count me.`, {}, KEYS.a);
    expect([await count(KEYS.a), await count(KEYS.b)]).toEqual([beforeA + 1, beforeB]);
  });
});

describe('keys made with npm run keys', () => {
  it('creates a working key, lists it by id (never the key), and revokes it everywhere, open sockets included', async () => {
    const { server } = system;
    const created = await keysCli('create', '--tenant', 'initech', '--scopes', 'tasks:read,tasks:write', '--label', 'ci');
    const key = /key \(shown once[^:]*\): (\S+)/.exec(created.stdout)![1]!;
    const id = /created (k_[0-9a-f]{16})/.exec(created.stdout)![1]!;
    const viewer = await graphql<{ viewer: { tenant: string } }>(server, '{ viewer { tenant } }', {}, key);
    expect(viewer.data?.viewer.tenant).toBe('initech');

    const listed = await keysCli('list');
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(key);
    expect(JSON.stringify(await system.redis.client.hgetall(keys.apiKeys()))).not.toContain(key);

    const client = system.wsClient(server, { connectionParams: { authorization: `Bearer ${key}` } });
    const task = await submitTask(server, `${SAMPLE_TEXT} Initech.`, {}, key);
    const first = subscribe<{ id: string }>(client, 'subscription ($id: ID!) { taskUpdated(id: $id) { id } }', { id: task.id }, 'taskUpdated');
    await first.waitFor(() => true);

    expect((await keysCli('revoke', id)).stdout).toContain(`revoked ${id}`);
    const unknown = await rawPost({ query: '{ viewer { tenant } }' }, { authorization: 'Bearer some-unknown-key-123456' });
    const revoked = await rawPost({ query: '{ viewer { tenant } }' }, { authorization: `Bearer ${key}` });
    expect([revoked.status, revoked.body]).toEqual([unknown.status, unknown.body]);
    // The open socket is closed (4403), and the subscription it held ends with it.
    await waitFor(() => first.errors.length > 0, { message: 'the revoked socket to close' });
    expect((first.errors[0] as { code?: number }).code).toBe(4403);
    await client.dispose();
    const again = system.wsClient(server, { connectionParams: { authorization: `Bearer ${key}` } });
    const refused = subscribe(again, 'subscription { tasksUpdated { id } }', {}, 'tasksUpdated');
    await waitFor(() => refused.errors.length > 0, { message: 'a new socket with the revoked key to be refused' });
    // An API_KEYS entry is revoked by its id the same way.
    expect((await graphql(server, '{ viewer { tenant } }', {}, KEYS.revocable)).status).toBe(200);
    await keysCli('revoke', keyIdOf(hashKey(KEYS.revocable)));
    expect((await rawPost({ query: '{ viewer { tenant } }' }, { authorization: `Bearer ${KEYS.revocable}` })).body).toBe(unknown.body);
  }, 60_000);

  it('explains bad usage with exit code 2', async () => {
    await expect(keysCli('create', '--tenant', 'bad tenant!', '--scopes', 'tasks:read')).rejects.toMatchObject({ code: 2 });
    await expect(keysCli('revoke', 'not-an-id')).rejects.toMatchObject({ code: 2 });
  }, 30_000);
});

describe('submission rate limit', () => {
  const limitedPrefix = randomPrefix('limited');
  let limited: RunningServer;

  beforeAll(async () => {
    limited = await system.startServer({ API_KEYS, REDIS_KEY_PREFIX: limitedPrefix, SUBMIT_RATE_LIMIT: '3/1m' });
  });

  it('answers 429 with Retry-After past the limit, submits nothing, and keeps keys apart', async () => {
    const submit = (key: string, aliases = 1) =>
      fetch(`${limited.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({
          query: `mutation { ${Array.from({ length: aliases }, (_, i) => `s${i}: submitTask(input: { content: "Rate limited text number ${i}." }) { id }`).join(' ')} }`,
        }),
      });
    const stored = () => system.redis.client.zcard(createRedisKeys(limitedPrefix).tasksAll());
    expect((await submit(KEYS.a, 2)).status).toBe(200);
    // One token left: an operation that would submit two takes none and submits nothing.
    const both = await submit(KEYS.a, 2);
    expect(both.status).toBe(429);
    expect(await stored()).toBe(2);
    expect((await submit(KEYS.a)).status).toBe(200);
    const refused = await submit(KEYS.a);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await refused.json()) as { errors: { extensions: { code: string; details: { retryAfterSeconds: number } } }[] };
    expect(body.errors[0]!.extensions.code).toBe('RATE_LIMITED');
    expect(body.errors[0]!.extensions.details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(await stored()).toBe(3);
    // Another key has its own bucket; reads are not limited.
    expect((await submit(KEYS.b)).status).toBe(200);
    expect((await graphql(limited, '{ tasks { totalCount } }', {}, KEYS.a)).status).toBe(200);
  });
});

describe('TASK_FIELDS still resolve for a key holder', () => {
  it('reads its own task whole', async () => {
    const { server } = system;
    const task = await submitTask(server, `${SAMPLE_TEXT} Whole.`, {}, KEYS.a);
    const answer = await graphql(server, `query ($id: ID!) { task(id: $id) { ${TASK_FIELDS} } }`, { id: task.id }, KEYS.aReadOnly);
    expect(answer.errors).toBeUndefined();
  });
});
