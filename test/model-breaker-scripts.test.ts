/**
 * The model breaker scripts against a real Redis, at a clock the test sets: the window's bucket
 * math, opening at the threshold, one probe per half-open period, the probe's outcome, and the
 * operators' reset and forced open. The clock: each call runs the script's own Lua with its one
 * `TIME` reading replaced by the test's instant (`atClock`), so the production scripts, which
 * take no time from their caller, are what is tested.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitState } from '../schema/src/circuit.ts';
import { decodeModelBreakers, windowCounts, type ModelCallOutcome } from '../schema/src/model-breakers.ts';
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import { TASK_SCRIPTS, type TaskScriptName, type TaskScripts } from '../schema/src/scripts/index.ts';
import { taskScriptCall } from '../schema/src/scripts/kit/call.ts';
import type { ScriptArgs, ScriptKeys, ScriptReply } from '../schema/src/scripts/kit/define.ts';
import { startRedis, type TestRedis } from './support/redis-server.ts';

let redis: TestRedis;
const keys = createRedisKeys(`models-${randomUUID().slice(0, 8)}`);
const SETTINGS = { windowMs: 10_000, volumeThreshold: 4, failureRatio: 0.5, openMs: 5000 };
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/**
 * `lua` with its clock reading fixed at `nowMs` (test only: the prelude's one TIME call). A
 * script that never reads the clock carries no `now_ms` (kit/helper-pruning.ts leaves out uncalled helpers),
 * and has nothing to fix.
 */
function atClock(lua: string, nowMs: number): string {
  const reading = `{'${Math.floor(nowMs / 1000)}', '${(nowMs % 1000) * 1000}'}`;
  if (!lua.includes('local function now_ms(')) return lua;
  expect(lua).toContain("redis.call('TIME')");
  return lua.replace("redis.call('TIME')", reading);
}

async function run<N extends TaskScriptName>(name: N, nowMs: number, callKeys: ScriptKeys<TaskScripts[N]>, args: ScriptArgs<TaskScripts[N]>): Promise<ScriptReply<TaskScripts[N]>> {
  const script = TASK_SCRIPTS[name];
  const call = taskScriptCall(script, keys, { taskId: '', tenant: '', at: nowMs }, { maxEvents: 10, actor: 'test' }, callKeys, args);
  const reply = await redis.client.eval(atClock(script.lua, nowMs), call.keys.length, ...call.keys, ...call.args);
  return script.decode(reply) as ScriptReply<TaskScripts[N]>;
}

const record = (model: string, outcome: ModelCallOutcome, nowMs: number, probeToken = '') =>
  run(
    'modelBreakerRecord',
    nowMs,
    { breakers: keys.modelBreakers(), calls: keys.modelCalls(model), probe: keys.modelProbe(model), totals: keys.modelCallTotals() },
    { model, outcome, probeToken, ...SETTINGS },
  );
const probe = (model: string, token: string, nowMs: number, leaseMs = 2000) =>
  run('modelBreakerProbe', nowMs, { breakers: keys.modelBreakers(), probe: keys.modelProbe(model) }, { model, probeToken: token, leaseMs });
const breakerOf = async (model: string) => decodeModelBreakers(await redis.client.hgetall(keys.modelBreakers())).get(model);

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.dispose();
});

describe('counting a model’s calls', () => {
  it('counts the window in tenths: a bucket leaves the window once it starts a whole window before now', async () => {
    const model = `count/${randomUUID()}`;
    // Buckets of 1 s: the calls at T0 + 0.5 s and T0 + 1.2 s land in the buckets starting at T0 and T0 + 1 s.
    expect(await record(model, 'ok', T0 + 500)).toMatchObject({ status: 'counted', calls: 1, failures: 0 });
    expect(await record(model, 'failed', T0 + 1200)).toMatchObject({ calls: 2, failures: 1 });
    // At T0 + 10 s the bucket starting at T0 is a whole window old: only the second call remains.
    expect(await record(model, 'ok', T0 + 10_000)).toMatchObject({ calls: 2, failures: 1 });
    // And the hash holds no bucket the window no longer needs.
    const fields = await redis.client.hgetall(keys.modelCalls(model));
    expect(Object.keys(fields).sort()).toEqual([`c:${T0 + 1000}`, `c:${T0 + 10_000}`, `f:${T0 + 1000}`]);
    // The TypeScript reading of the same hash agrees (the models query and /metrics use it).
    expect(windowCounts(fields, T0 + 10_000, SETTINGS.windowMs)).toEqual({ calls: 2, failures: 1 });
    expect(windowCounts(fields, T0 + 11_000, SETTINGS.windowMs)).toEqual({ calls: 1, failures: 0 });
    // It expires a window (and a bucket) after its last write.
    expect(await redis.client.pttl(keys.modelCalls(model))).toBeGreaterThan(10_000);
    expect(await redis.client.pttl(keys.modelCalls(model))).toBeLessThanOrEqual(11_000);
  });

  it('counts an outcome that says nothing of the model in the totals only, and lists the model', async () => {
    const model = `other/${randomUUID()}`;
    expect(await record(model, 'other', T0)).toMatchObject({ status: 'counted', calls: 0, failures: 0 });
    expect(await redis.client.exists(keys.modelCalls(model))).toBe(0);
    expect(await redis.client.hget(keys.modelCallTotals(), `${model}\tother`)).toBe('1');
    expect(await breakerOf(model)).toMatchObject({ state: CircuitState.CLOSED });
  });
});

describe('opening', () => {
  it('opens when at least half of at least the volume threshold failed, until now + the open time', async () => {
    const model = `open/${randomUUID()}`;
    await record(model, 'failed', T0);
    await record(model, 'ok', T0 + 100);
    // Two failures of three calls: under the volume threshold of four, still closed.
    expect(await record(model, 'failed', T0 + 200)).toMatchObject({ status: 'counted', calls: 3, failures: 2 });
    expect(await record(model, 'ok', T0 + 300)).toMatchObject({ status: 'counted', calls: 4, failures: 2 });
    // Three of five: opened by this failure.
    expect(await record(model, 'failed', T0 + 400)).toEqual({ status: 'opened', calls: 5, failures: 3, halfOpenAt: T0 + 5400 });
    expect(await breakerOf(model)).toEqual({ state: CircuitState.OPEN, openedAt: T0 + 400, halfOpenAt: T0 + 5400, probeUntil: null });
    // A call that was under way when it opened is counted, and changes nothing.
    expect(await record(model, 'failed', T0 + 500)).toMatchObject({ status: 'counted', calls: 6, failures: 4 });
    expect((await breakerOf(model))!.openedAt).toBe(T0 + 400);
  });

  it('does not open on old failures that left the window', async () => {
    const model = `old/${randomUUID()}`;
    for (let i = 0; i < 3; i += 1) await record(model, 'failed', T0 + i);
    // Eleven seconds on, those three are gone: one failure of one call is under the volume.
    expect(await record(model, 'failed', T0 + 11_000)).toMatchObject({ status: 'counted', calls: 1, failures: 1 });
  });
});

describe('the half-open probe', () => {
  async function openedModel(): Promise<string> {
    const model = `probe/${randomUUID()}`;
    for (let i = 0; i < 4; i += 1) await record(model, 'failed', T0 + i);
    expect((await breakerOf(model))!.state).toBe(CircuitState.OPEN);
    return model;
  }

  it('goes to exactly one caller at the probe time, and to nobody before it', async () => {
    const model = await openedModel();
    expect(await probe(model, 'early', T0 + 4000)).toEqual({ status: 'open', halfOpenAt: T0 + 5003 });
    const answers = await Promise.all(['a', 'b', 'c', 'd'].map((token) => probe(model, token, T0 + 5003)));
    expect(answers.filter((answer) => answer.status === 'probe')).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 'busy')).toHaveLength(3);
    expect(await breakerOf(model)).toMatchObject({ state: CircuitState.HALF_OPEN, probeUntil: T0 + 7003 });
  });

  it('closes the breaker and clears its counts when the probe answers', async () => {
    const model = await openedModel();
    expect(await probe(model, 'p1', T0 + 6000)).toEqual({ status: 'probe' });
    // Another call's late success is not the probe's: it decides nothing.
    expect(await record(model, 'ok', T0 + 6100, 'not-the-lease')).toMatchObject({ status: 'counted' });
    expect((await breakerOf(model))!.state).toBe(CircuitState.HALF_OPEN);
    expect(await record(model, 'ok', T0 + 6200, 'p1')).toEqual({ status: 'closed', calls: 0, failures: 0 });
    expect(await breakerOf(model)).toEqual({ state: CircuitState.CLOSED, openedAt: null, halfOpenAt: null, probeUntil: null });
    expect(await redis.client.exists(keys.modelCalls(model), keys.modelProbe(model))).toBe(0);
    expect(await probe(model, 'after', T0 + 6300)).toEqual({ status: 'closed' });
  });

  it('opens it again for another open time when the probe fails', async () => {
    const model = await openedModel();
    await probe(model, 'p1', T0 + 6000);
    expect(await record(model, 'failed', T0 + 6500, 'p1')).toMatchObject({ status: 'opened', halfOpenAt: T0 + 11_500 });
    expect(await probe(model, 'p2', T0 + 7000)).toEqual({ status: 'open', halfOpenAt: T0 + 11_500 });
    expect(await probe(model, 'p2', T0 + 11_500)).toEqual({ status: 'probe' });
  });

  it('lets the next caller probe once a probe’s lease ran out without an outcome, or it said nothing of the model', async () => {
    const model = await openedModel();
    await probe(model, 'lost', T0 + 6000, 50);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await probe(model, 'next', T0 + 6100)).toEqual({ status: 'probe' });
    // The lost probe's late outcome is not the lease holder's: it decides nothing.
    expect(await record(model, 'ok', T0 + 6200, 'lost')).toMatchObject({ status: 'counted' });
    // A probe answered 400 (the request's fault): the lease ends, another caller probes.
    expect(await record(model, 'other', T0 + 6300, 'next')).toMatchObject({ status: 'released' });
    expect(await probe(model, 'third', T0 + 6400)).toEqual({ status: 'probe' });
  });
});

describe('operators', () => {
  it('force open every model known or configured, with no probe time, until a reset closes them and clears their counts', async () => {
    const called = `called/${randomUUID()}`;
    const configured = `configured/${randomUUID()}`;
    await record(called, 'failed', T0);
    const breakers = { breakers: keys.modelBreakers() };
    expect(await run('modelBreakersForceOpen', T0 + 100, breakers, { models: `${configured}\n${called}` })).toBeGreaterThanOrEqual(2);
    for (const model of [called, configured]) {
      expect(await breakerOf(model)).toEqual({ state: CircuitState.OPEN, openedAt: T0 + 100, halfOpenAt: null, probeUntil: null });
      expect(await probe(model, 'x', T0 + 3_600_000)).toEqual({ status: 'open', halfOpenAt: null });
    }
    expect(await run('modelBreakersReset', T0 + 200, breakers, {})).toBeGreaterThanOrEqual(2);
    for (const model of [called, configured]) expect((await breakerOf(model))!.state).toBe(CircuitState.CLOSED);
    expect(await redis.client.exists(keys.modelCalls(called))).toBe(0);
  });
});
