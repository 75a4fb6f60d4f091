/**
 * The task scripts' declared keys and arguments against their Lua and their calls: every
 * KEYS and ARGV slot is bound by name from the declaration, the Lua builds no key of its own,
 * carries every family helper it calls, and a real lifecycle touches no key its calls did not pass.
 */
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTaskScriptRunner } from '../common/task-script-runner.ts';
import { QueueName, createRedisKeys } from '../schema/src/redis-keys.ts';
import { LUA_FRAGMENTS, TASK_SCRIPTS } from '../schema/src/scripts/index.ts';
import { PRELUDE } from '../schema/src/scripts/prelude.ts';
import { taskScriptCall } from '../schema/src/scripts/kit/call.ts';
import type { AnyTaskScript } from '../schema/src/scripts/kit/define.ts';
import { TEMPLATE_BASE, TEMPLATE_VALUE } from '../schema/src/scripts/kit/templates.ts';
import { lineKeys } from '../schema/src/scripts/dispatch-lines.ts';
import { createTaskRepository } from '../server/infra/task-repository.ts';
import { createDispatchStore } from '../server/infra/dispatch-store.ts';
import { createTaskStore } from '../worker/task-store.ts';
import { useSystem } from './support/fixtures.ts';

const keys = createRedisKeys(`contract-${randomUUID().slice(0, 8)}`);
const scope = { taskId: 'task-1', tenant: 'tenant-1', at: Date.UTC(2026, 0, 1, 12, 30, 15) };
const common = { maxEvents: 10, actor: 'w' };

/** A value for every key and argument the script declares. */
function fullCall(script: AnyTaskScript) {
  const callKeys = Object.fromEntries([...script.keys, ...script.optionalKeys].map((name) => [name, `${keys.prefix}:k:${name}`]));
  const callArgs = Object.fromEntries(script.args.map((name) => [name, `v-${name}`]));
  return { callKeys, callArgs };
}

/** Highest `KEYS[n]` / `ARGV[n]` the Lua reads. */
const slots = (lua: string, table: 'KEYS' | 'ARGV') => Math.max(0, ...[...lua.matchAll(new RegExp(`${table}\\[(\\d+)\\]`, 'g'))].map((m) => Number(m[1])));

describe.each(Object.entries(TASK_SCRIPTS))('%s', (_name, script: AnyTaskScript) => {
  it('binds exactly the slots its calls fill', () => {
    const { callKeys, callArgs } = fullCall(script);
    const call = taskScriptCall(script, keys, scope, common, callKeys as never, callArgs as never);
    expect(slots(script.lua, 'KEYS')).toBe(call.keys.length);
    expect(slots(script.lua, 'ARGV')).toBe(call.args.length);
    expect(new Set(call.keys).size).toBe(call.keys.length);
  });

  it('reads KEYS and ARGV only in its bindings, and builds no key name', () => {
    const firstHelper = script.lua.indexOf('local NOW = nil');
    const [bindings, code] = [script.lua.slice(0, firstHelper), script.lua.slice(firstHelper)];
    expect(bindings).toMatch(/^local INDEX/);
    expect(code).not.toMatch(/KEYS\[|ARGV\[/);
    // No key argument of a command is put together with `..` (channels and fields may be).
    for (const match of code.matchAll(/redis\.call\('(\w+)',\s*([^,)]*)/g)) {
      if (match[1] === 'PUBLISH' || match[1] === 'TIME') continue;
      expect(match[2], `${match[1]} ${match[2]}`).not.toContain('..');
    }
  });

  it('carries every prelude and family helper it calls (and only those: kit/helper-pruning.ts leaves out the others)', () => {
    const code = script.lua.split('\n').filter((line) => !/^\s*--/.test(line)).join('\n');
    for (const fragment of [{ lua: PRELUDE }, ...LUA_FRAGMENTS]) {
      for (const [, helper] of fragment.lua.matchAll(/local function (\w+)\(/g)) {
        const calls = new RegExp(`(?<!function )\\b${helper}\\b`).test(code);
        if (calls) expect(script.lua, helper).toContain(`local function ${helper}(`);
        else expect(script.lua, helper).not.toContain(`local function ${helper}(`);
      }
    }
  });

  it('is passed templates of the one shape key_of fills: one value place, and a base place only before it', () => {
    for (const template of script.templates) {
      const text = template.build(keys);
      expect(text.split(TEMPLATE_VALUE).length, template.lua).toBe(2);
      expect(text.split(TEMPLATE_BASE).length, template.lua).toBeLessThanOrEqual(2);
      if (text.includes(TEMPLATE_BASE)) expect(text.indexOf(TEMPLATE_BASE), template.lua).toBeLessThan(text.indexOf(TEMPLATE_VALUE));
    }
  });

  it('refuses a call that names an undeclared key or argument, or leaves one out', () => {
    const { callKeys, callArgs } = fullCall(script);
    expect(() => taskScriptCall(script, keys, scope, common, { ...callKeys, stray: 'x' } as never, callArgs as never)).toThrow(/undeclared key/);
    expect(() => taskScriptCall(script, keys, scope, common, callKeys as never, { ...callArgs, stray: 1 } as never)).toThrow(/undeclared argument/);
    if (script.args.length > 0) {
      const { [script.args[0]!]: _dropped, ...fewer } = callArgs;
      expect(() => taskScriptCall(script, keys, scope, common, callKeys as never, fewer as never)).toThrow(/missing argument/);
    }
    if (script.keys.length > 0) {
      const { [script.keys[0]!]: _dropped, ...fewer } = callKeys;
      expect(() => taskScriptCall(script, keys, scope, common, fewer as never, callArgs as never)).toThrow(/missing key/);
    }
    if (script.optionalKeys.length > 1) {
      const { [script.optionalKeys[0]!]: _dropped, ...partial } = callKeys;
      expect(() => taskScriptCall(script, keys, scope, common, partial as never, callArgs as never)).toThrow(/all or none/);
    }
  });
});

describe('against Redis', () => {
  const system = useSystem({ server: false });

  it('touches no key that its calls did not pass (or that a template they passed does not name), through a whole life of every script', async () => {
    const passed = new Set<string>();
    // A key template (kit/templates.ts) names a family: its NUL (value) and SOH (base key) stand for any text.
    const templates: RegExp[] = [];
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const repository = createTaskRepository({ redis: system.redis.client, keys, maxEventsPerTask: 10, idempotencyTtlSeconds: 60 });
    const store = createTaskStore({ redis: system.redis.client, keys, workerId: 'w', leaseMs: 60_000, maxEventsPerTask: 10 });
    // (Made before the recording below: making a runner defines the commands again.)
    const dispatch = createDispatchStore({ redis: system.redis.client, keys, retryRatio: 0.3, positionMaxSteps: 100 });
    // Record the KEYS of every script call the runners make.
    const client = system.redis.client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const name of Object.keys(TASK_SCRIPTS)) {
      const original = client[name]!;
      client[name] = function (this: unknown, count: unknown, ...rest: unknown[]) {
        for (const key of rest.slice(0, Number(count))) passed.add(String(key));
        for (const arg of rest.slice(Number(count))) {
          const text = String(arg);
          if (text.includes(TEMPLATE_VALUE)) templates.push(new RegExp(`^${escape(text).split(TEMPLATE_VALUE).join('.+').split(TEMPLATE_BASE).join('.+')}$`));
        }
        return original.call(this, count, ...rest);
      };
    }
    const job = '{"data":{"taskId":"x"},"options":{},"status":"created"}';
    const id = randomUUID();
    expect((await repository.create({ id, tenant: 'acme', type: 'SUMMARIZE', content: 'Text.', maxRetries: 3, idempotencyKey: 'k1', job })).status).toBe('created');
    // Claimed by a caller that does not know the tenant: the script names it and the runner retries.
    const claim = await store.claim(id, 'lease-1');
    expect(claim).toMatchObject({ status: 'claimed', tenant: 'acme' });
    const lease = { taskId: id, tenant: 'acme', token: 'lease-1' };
    expect(await store.renew(lease)).toEqual({ held: true, capped: false });
    expect((await store.progress(lease, 0.5)).status).toBe('ok');
    expect((await store.defer(lease, 0, TransitionReason.CIRCUIT_OPEN)).status).toBe('ok');
    const second = { ...lease, token: 'lease-2' };
    await store.claim(id, second.token, 'acme');
    expect((await store.fail(second, { state: 'DLQ', error: { errorClass: 'PERMANENT', message: 'no', httpStatus: 400, attempt: 2 }, retryDelayMs: null, reason: 'PERMANENT' })).status).toBe('ok');
    expect((await repository.reopen({ id, tenant: 'acme' }, 'op', { resetRetryCount: true, reason: TransitionReason.RETRIED_BY_OPERATOR })).status).toBe('ok');
    const third = { ...lease, token: 'lease-3' };
    await store.claim(id, third.token, 'acme');
    expect(await store.release(third)).toBe(true);
    const fourth = { ...lease, token: 'lease-4' };
    await store.claim(id, fourth.token, 'acme');
    const finish = { keys: { jobActive: keys.beeQueueKey(QueueName.PRIMARY, 'active'), jobStalling: keys.beeQueueKey(QueueName.PRIMARY, 'stalling'), jobs: keys.beeQueueKey(QueueName.PRIMARY, 'jobs') }, id };
    expect((await store.complete(fourth, 'done', null, finish)).status).toBe('ok');
    const other = randomUUID();
    await repository.create({ id: other, tenant: 'acme', type: 'SUMMARIZE', content: 'More.', maxRetries: 3, idempotencyKey: null });
    expect((await repository.cancel({ id: other, tenant: 'acme' }, 'op', TransitionReason.CANCELLED_BY_OPERATOR)).status).toBe('ok');
    // The dispatcher: a policy with a cap, a waiting task's standing, a slot's pick and claim (with a
    // ticket that names a task), its slot kept by renewal and given back, and the sweep.
    await dispatch.setPolicy('acme', { maxConcurrency: 1, weight: 2 });
    const queued = randomUUID();
    await repository.create({ id: queued, tenant: 'acme', type: 'SUMMARIZE', content: 'Queued.', maxRetries: 3, idempotencyKey: null, job });
    expect(await dispatch.positions([queued])).toEqual([{ position: 0, waitReason: 'QUEUED' }]);
    const picked = await store.dispatch({ taskId: queued, tenant: 'acme', lane: 'retry' }, 'lease-5', 0.3);
    expect(picked.outcome).toMatchObject({ status: 'claimed', taskId: queued, capped: true });
    const slot = { taskId: queued, tenant: 'acme', token: 'lease-5' };
    expect(await store.renew(slot)).toEqual({ held: true, capped: true });
    expect((await store.complete(slot, 'done', null)).status).toBe('ok');
    expect(await store.releaseSlot(slot, 1)).toBe(true);
    await dispatch.setPolicy('acme', { paused: true });
    await dispatch.setPolicy('acme', { paused: false, maxConcurrency: null });
    expect(await store.sweepDispatch(10)).toBe(0);
    const stored = await system.redis.client.keys(`${keys.prefix}:*`);
    expect(stored.length).toBeGreaterThan(5);
    expect(stored.filter((key) => !passed.has(key) && !templates.some((template) => template.test(key)))).toEqual([]);

    expect(await repository.remove(id, 'op')).toBe(true);
    expect(await repository.remove(other, 'op')).toBe(true);
    expect(await repository.remove(queued, 'op')).toBe(true);
    expect((await system.redis.client.keys(`${keys.prefix}:*`)).filter((key) => !passed.has(key) && !templates.some((template) => template.test(key)))).toEqual([]);
  });

  it('lets the runner correct a wrong tenant without changing anything first', async () => {
    const run = createTaskScriptRunner(system.redis.client, keys);
    const id = randomUUID();
    const repository = createTaskRepository({ redis: system.redis.client, keys, maxEventsPerTask: 10, idempotencyTtlSeconds: 60 });
    await repository.create({ id, tenant: 'tenant "quoted" one', type: 'SUMMARIZE', content: 'Text.', maxRetries: 3, idempotencyKey: null });
    const outcome = await run('taskCancel', { taskId: id, tenant: 'someone-else' }, common, lineKeys(keys), { reason: TransitionReason.CANCELLED_BY_OPERATOR });
    expect(outcome).toMatchObject({ status: 'ok', version: 2 });
    expect(await system.redis.client.zcard(keys.tenantSlice(keys.tasksInState('CANCELLED'), 'someone-else'))).toBe(0);
    expect(await system.redis.client.zcard(keys.tenantSlice(keys.tasksInState('CANCELLED'), 'tenant "quoted" one'))).toBe(1);
  });
});
