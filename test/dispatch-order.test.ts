/**
 * The order the fair dispatcher starts tasks in (docs/dispatch.md), driven slot by slot on a
 * real Redis: a noisy neighbour, weights, tokens, priorities, positions, and tenant names that
 * try to break the keys.
 */
import { describe, expect, it } from 'vitest';
import { createDispatchHarness } from './support/dispatch-harness.ts';
import { useSystem } from './support/fixtures.ts';

const system = useSystem({ server: false });
const harness = (options: Parameters<typeof createDispatchHarness>[1] = {}) => createDispatchHarness(system.redis.client, options);

describe('fair share', () => {
  it('does not hold a light tenant behind a flood: at most 3 starts of the flooder per task of the other', async () => {
    const h = harness();
    for (let i = 0; i < 300; i += 1) await h.submit('flood');
    // The flood has been running a while before the light tenant arrives.
    expect((await h.drain(40)).every((start) => start.tenant === 'flood')).toBe(true);
    const light: string[] = [];
    for (let i = 0; i < 8; i += 1) light.push(await h.submit('light'));
    const order = await h.drain();
    const lastLight = order.findIndex((start) => start.taskId === light.at(-1));
    const floodBefore = order.slice(0, lastLight).filter((start) => start.tenant === 'flood').length;
    expect(floodBefore).toBeLessThanOrEqual(3 * 8);
    expect(order.filter((start) => start.tenant === 'light').map((start) => start.taskId)).toEqual(light);
  });

  it('splits starts by weight while both tenants wait (3:1 within 20 %)', async () => {
    const h = harness();
    await h.dispatch.setPolicy('heavy', { weight: 3 });
    for (let i = 0; i < 300; i += 1) {
      await h.submit('heavy');
      await h.submit('light');
    }
    const order = await h.drain(200);
    const heavy = order.filter((start) => start.tenant === 'heavy').length;
    expect(heavy / (200 - heavy)).toBeGreaterThan(3 * 0.8);
    expect(heavy / (200 - heavy)).toBeLessThan(3 * 1.2);
  });

  it('shares tokens, not tasks: a tenant with prompts 8 times longer gets about the same tokens in far fewer starts', async () => {
    const h = harness();
    for (let i = 0; i < 100; i += 1) await h.submit('long', { cost: 800 });
    for (let i = 0; i < 400; i += 1) await h.submit('short', { cost: 100 });
    const order = await h.drain(180);
    const tokens = (tenant: string, cost: number) => order.filter((start) => start.tenant === tenant).length * cost;
    expect(tokens('long', 800) / tokens('short', 100)).toBeGreaterThan(0.8);
    expect(tokens('long', 800) / tokens('short', 100)).toBeLessThan(1.25);
    expect(order.filter((start) => start.tenant === 'short').length).toBeGreaterThan(6 * order.filter((start) => start.tenant === 'long').length);
  });

  it('is work-conserving, and a tenant back from idle gets no credit for the time it was idle', async () => {
    const h = harness();
    for (let i = 0; i < 50; i += 1) await h.submit('busy');
    for (let i = 0; i < 5; i += 1) await h.submit('brief');
    // A tenant alone uses every start.
    const first = await h.drain(30);
    expect(first.filter((start) => start.tenant === 'brief')).toHaveLength(5);
    // 'brief' idled while 'busy' ran 25 more; coming back, it alternates with 'busy' rather
    // than taking the 25 starts it "missed".
    for (let i = 0; i < 10; i += 1) await h.submit('brief');
    const after = await h.drain(10);
    const brief = after.filter((start) => start.tenant === 'brief').length;
    expect(brief).toBeGreaterThanOrEqual(4);
    expect(brief).toBeLessThanOrEqual(6);
  });

  it('breaks a tie by age, never by name', async () => {
    const h = harness();
    const older = await h.submit('zzz');
    const newer = await h.submit('aaa');
    const order = await h.drain();
    expect(order.map((start) => start.taskId)).toEqual([older, newer]);
  });
});

describe('priority', () => {
  it('starts a HIGH task submitted behind 200 NORMAL tasks of its tenant before 12 more of them', async () => {
    const h = harness();
    for (let i = 0; i < 200; i += 1) await h.submit('acme');
    await h.drain(5);
    const urgent = await h.submit('acme', { priority: 'HIGH' });
    const order = await h.drain(12);
    expect(order.map((start) => start.taskId)).toContain(urgent);
  });

  it('moves a task only within its own tenant: HIGH takes no share from another tenant', async () => {
    const h = harness();
    for (let i = 0; i < 40; i += 1) {
      await h.submit('urgent', { priority: 'HIGH' });
      await h.submit('calm');
    }
    const order = await h.drain(40);
    expect(order.filter((start) => start.tenant === 'urgent')).toHaveLength(20);
  });

  it('starts a LOW task within twice PRIORITY_OFFSET_MS plus the drain while HIGH work keeps arriving', async () => {
    const offsetMs = 150;
    const h = harness({ priorityOffsetMs: offsetMs });
    for (let i = 0; i < 10; i += 1) await h.submit('acme', { priority: 'HIGH' });
    const low = await h.submit('acme', { priority: 'LOW' });
    const submittedAt = Date.now();
    let startedAt: number | null = null;
    // HIGH work keeps coming as fast as it is started: the line never drains by itself.
    while (startedAt === null && Date.now() - submittedAt < 20 * offsetMs) {
      await h.submit('acme', { priority: 'HIGH' });
      const { started } = await h.next();
      if (started) {
        if (started.taskId === low) startedAt = Date.now();
        await h.finish(started);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(startedAt).not.toBeNull();
    // Its bound: HIGH tasks submitted 2 x offset after it count as later; those before it drain
    // at the rate they arrive (one start per submit), so about 2 x offset more.
    expect(startedAt! - submittedAt).toBeLessThan(4 * offsetMs + 500);
  });
});

describe('where a task stands', () => {
  it('gives each waiting task the number of starts before it, exactly, and each start ahead takes one off', async () => {
    const h = harness();
    await h.dispatch.setPolicy('b', { weight: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      ids.push(await h.submit('a', { cost: 100 + (i % 3) * 50 }));
      ids.push(await h.submit('b', { cost: 120, priority: i % 5 === 0 ? 'HIGH' : 'NORMAL' }));
      if (i % 7 === 0) ids.push(await h.submit('c', { cost: 400, priority: 'LOW' }));
    }
    const before = await h.dispatch.positions(ids);
    expect(before.every((standing) => standing.waitReason === 'QUEUED' && standing.position !== null)).toBe(true);
    const first = await h.next();
    await h.finish(first.started!);
    const after = await h.dispatch.positions(ids);
    ids.forEach((id, i) => {
      if (id === first.started!.taskId) expect(after[i]).toEqual({ position: null, waitReason: null });
      else expect(after[i]!.position).toBe(before[i]!.position! - 1);
    });
    // The positions are the order the dispatcher then starts them in.
    const order = await h.drain();
    const byPosition = ids.filter((id) => id !== first.started!.taskId).sort((x, y) => after[ids.indexOf(x)]!.position! - after[ids.indexOf(y)]!.position!);
    expect(order.map((start) => start.taskId)).toEqual(byPosition);
  });

  it('says why a task waits: a paused tenant has no position, a capped one waits at its cap', async () => {
    const h = harness();
    const paused = await h.submit('sleepy');
    await h.dispatch.setPolicy('sleepy', { paused: true });
    await h.dispatch.setPolicy('capped', { maxConcurrency: 1 });
    await h.submit('capped');
    const held = await h.submit('capped');
    const running = await h.next();
    expect(running.started!.tenant).toBe('capped');
    // The next pick finds the capped tenant at its cap and the other paused: nothing starts.
    expect((await h.next()).outcome.status).toBe('parked');
    expect(await h.dispatch.positions([paused, held])).toEqual([
      { position: null, waitReason: 'TENANT_PAUSED' },
      { position: 0, waitReason: 'TENANT_CAP' },
    ]);
    await h.finish(running.started!);
    expect((await h.next()).started?.taskId).toBe(held);
    await h.dispatch.setPolicy('sleepy', { paused: false });
    expect((await h.next()).started?.taskId).toBe(paused);
  });
});

describe('tenant names', () => {
  it('keeps tenants named with *, :, {}, 256 bytes or Unicode apart, and strands none of their work', async () => {
    const h = harness();
    const names = ['*', 'a:b', 'a', '{x}', 'x'.repeat(256), 'Mandant-ü-租户-🙂', 'a\tweight', 'new:a', '%z%1'];
    const submitted = new Map<string, string[]>();
    for (const name of names) submitted.set(name, [await h.submit(name), await h.submit(name)]);
    await h.dispatch.setPolicy('a:b', { paused: true });
    await h.dispatch.setPolicy('a\tweight', { weight: 7, maxConcurrency: 2 });
    const policies = await h.dispatch.policies();
    expect(policies.find((policy) => policy.tenant === 'a')).toMatchObject({ paused: false, weight: 1, maxConcurrency: null, waiting: 2 });
    expect(policies.find((policy) => policy.tenant === 'a:b')).toMatchObject({ paused: true, waiting: 2 });
    expect(policies.find((policy) => policy.tenant === 'a\tweight')).toMatchObject({ weight: 7, maxConcurrency: 2 });
    const order = await h.drain();
    for (const start of order) expect(submitted.get(start.tenant)).toContain(start.taskId);
    expect(order).toHaveLength(2 * (names.length - 1));
    await h.dispatch.setPolicy('a:b', { paused: false });
    expect((await h.drain()).map((start) => start.taskId).sort()).toEqual([...submitted.get('a:b')!].sort());
  });
});

describe('admission', () => {
  it('counts running attempts at once when a cap is set, and starts the next when one ends', async () => {
    const h = harness();
    for (let i = 0; i < 5; i += 1) await h.submit('acme');
    const running = [(await h.next()).started!, (await h.next()).started!, (await h.next()).started!];
    await h.dispatch.setPolicy('acme', { maxConcurrency: 2 });
    expect(await h.dispatch.policies()).toEqual([expect.objectContaining({ tenant: 'acme', maxConcurrency: 2, active: 3, waiting: 2 })]);
    expect((await h.next()).outcome.status).toBe('parked');
    // Their workers learn at their next renewal that the tenant is capped now.
    for (const started of running) expect(await h.worker.renew(started.lease)).toEqual({ held: true, capped: true });
    await h.finish({ ...running[0]!, capped: true });
    expect((await h.next()).outcome.status).toBe('parked');
    await h.finish({ ...running[1]!, capped: true });
    expect((await h.next()).started?.tenant).toBe('acme');
  });

  it('lets running attempts finish while paused, starts nothing new, and resumes in order', async () => {
    const h = harness();
    const ids = [await h.submit('acme'), await h.submit('acme'), await h.submit('acme')];
    const running = (await h.next()).started!;
    await h.dispatch.setPolicy('acme', { paused: true });
    await h.finish(running);
    expect((await h.next()).outcome.status).toBe('parked');
    expect((await h.repository.get(running.taskId))!.state).toBe('COMPLETED');
    await h.dispatch.setPolicy('acme', { paused: false });
    expect((await h.drain()).map((start) => start.taskId)).toEqual(ids.slice(1));
  });

  it('gives the ticket back as a job when its picks run out passing over held tenants', async () => {
    const h = harness();
    for (const tenant of ['a', 'b']) {
      await h.dispatch.setPolicy(tenant, { maxConcurrency: 1 });
      await h.submit(tenant);
      await h.submit(tenant);
      expect((await h.next()).started?.tenant).toBe(tenant);
    }
    const other = await h.submit('c');
    const waiting = h.keys.beeQueueKey('primary', 'waiting');
    const jobsBefore = await system.redis.client.llen(waiting);
    // A dispatcher allowed one pick finds the first capped tenant at its cap: held, and the ticket
    // queued again.
    const picky = harness({ prefix: h.keys.prefix, maxPicks: 1 });
    expect((await picky.next()).outcome.status).toBe('again');
    expect(await system.redis.client.llen(waiting)).toBe(jobsBefore + 1);
    expect((await h.next()).started?.taskId).toBe(other);
  });

  it('replaces a start\'s token reservation by what its call used, once its usage is recorded', async () => {
    // A bucket that barely refills: what is there comes from the reservation given back.
    const h = harness({ tokenLimit: { capacity: 1000, windowMs: 3_600_000 } });
    await h.submit('acme', { cost: 600 });
    await h.submit('acme', { cost: 600 });
    const first = (await h.next()).started!;
    expect((await h.next()).outcome.status).toBe('parked');
    // The call used 100 tokens of the 600 reserved: 500 go back, and the second task fits.
    const usage = { model: 'm', generationId: null, promptTokens: 60, completionTokens: 40, cachedTokens: 0, reasoningTokens: 0, costUsd: 0, estimated: false };
    const waiting = h.keys.beeQueueKey('primary', 'waiting');
    const jobsBefore = await system.redis.client.llen(waiting);
    expect(await h.worker.recordUsage(first.lease, first.attempt, usage, null)).toBe(true);
    // The ticket parked for the tokens is given back, and the head waiting for them starts.
    expect(await system.redis.client.llen(waiting)).toBe(jobsBefore + 1);
    expect((await h.next()).started).not.toBeNull();
  });

  it('paces starts by the provider token limit: a task waits until its cost fits, with no error', async () => {
    const h = harness({ tokenLimit: { capacity: 1000, windowMs: 1000 } });
    for (let i = 0; i < 4; i += 1) await h.submit('acme', { cost: 400 });
    const startedAt = Date.now();
    expect((await h.next()).started).not.toBeNull();
    expect((await h.next()).started).not.toBeNull();
    const parked = (await h.next()).outcome;
    expect(parked).toMatchObject({ status: 'parked' });
    // 200 tokens left: the next 400 fit after 200 ms of refill.
    const wakeAt = (parked as { wakeAt: number }).wakeAt;
    expect(wakeAt - startedAt).toBeGreaterThan(100);
    expect(wakeAt - startedAt).toBeLessThan(400);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wakeAt - Date.now() + 20)));
    expect((await h.next()).started).not.toBeNull();
  });
});

describe('tasks queued before the dispatcher', () => {
  it('puts a task whose job was queued without a line entry in its line when that job is delivered', async () => {
    const h = harness();
    // An older deployment's task: PENDING with a job, in no line.
    const id = '00000000-0000-4000-8000-000000000001';
    await h.repository.create({ id, tenant: 'old', type: 'SUMMARIZE', content: 'Old task.', maxRetries: 3, idempotencyKey: null });
    expect((await h.next()).outcome.status).toBe('idle');
    const { outcome } = await h.worker.dispatch({ taskId: id, tenant: 'old', lane: 'new' }, 'lease', 0.3);
    expect(outcome).toMatchObject({ status: 'claimed', taskId: id });
  });
});
