/**
 * fan-out: K subscribers of one task receive its changes. The real path: a worker-side
 * progress write (the same Lua script a worker runs) publishes through Redis; the server's
 * one subscription fans each message out to the K graphql-ws subscribers. Baselines in the
 * same run, fed by one Redis PUBLISH per event too: a bare `ws` broadcast of the
 * pre-serialized message, and graphql-ws with an in-memory PubSub.
 *
 * Paced: about 10k deliveries/s (events/s = 10000 / K, at most 500); burst: events sent
 * back to back. Latency = delivery time - send time, per delivery.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import type WebSocket from 'ws';
import { parseRedisUrl, createRedisClient } from '../../common/redis-connection.ts';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { createTaskStore } from '../../worker/task-store.ts';
import { compared, type Row } from '../lib/report.ts';
import { cpuMeter, latencySummary, postGraphQL } from '../lib/measure.ts';
import { closeWsClients, openRawSockets, openWsClients, type BenchSystem, type Running } from '../lib/system.ts';

const CHANNEL = 'bench:fanout';
type Variant = 'ours' | 'memory' | 'raw';

interface Phase {
  deliveries: number;
  expected: number;
  perSecond: number;
  p50: number;
  p99: number;
  serverCpuPerDelivery: number;
}

interface Emitter {
  /** Sends one event and returns the version it will carry (known before it is sent). */
  emit(): { version: number; done: Promise<void> };
  close(): Promise<void>;
}

async function oursEmitter(system: BenchSystem, api: Running): Promise<{ emitter: Emitter; taskId: string }> {
  const redis = createRedisClient(parseRedisUrl(system.redis.url), { name: 'bench-emitter', commandTimeoutMs: 0 });
  await redis.connect();
  const answer = await postGraphQL(api.url, JSON.stringify({ query: 'mutation { submitTask(input: {content: "Fan-out bench task."}) { id } }' }));
  const taskId = (answer.data!.submitTask as { id: string }).id;
  // Claimed as a worker would (no worker runs here), then progress writes: real events.
  const store = createTaskStore({ redis, keys: createRedisKeys(), workerId: 'bench', leaseMs: 3_600_000, maxEventsPerTask: 1000 });
  const token = randomUUID();
  const claim = await store.claim(taskId, token);
  if (claim.status !== 'claimed') throw new Error(`bench could not claim its task: ${claim.status}`);
  const lease = { taskId, tenant: claim.tenant, token };
  // Nobody else writes this task, so each write gets the next version.
  let version = claim.version;
  return {
    taskId,
    emitter: {
      emit() {
        version += 1;
        const expected = version;
        const done = store.progress(lease, (version % 1000) / 1000).then((outcome) => {
          if (outcome.status !== 'ok' || outcome.version !== expected) throw new Error(`progress write gave ${JSON.stringify(outcome)}, expected version ${expected}`);
        });
        return { version, done };
      },
      close: async () => {
        redis.disconnect();
      },
    },
  };
}

async function publishEmitter(system: BenchSystem): Promise<Emitter> {
  const redis = createRedisClient(parseRedisUrl(system.redis.url), { name: 'bench-publisher', commandTimeoutMs: 0 });
  await redis.connect();
  let version = 0;
  return {
    emit() {
      version += 1;
      // About the size of a task change without its content.
      const done = redis.publish(CHANNEL, JSON.stringify({ id: 'bench', state: 'ACTIVE', version, progress: version / 1e6, padding: 'x'.repeat(300) })).then(() => undefined);
      return { version, done };
    },
    close: async () => {
      redis.disconnect();
    },
  };
}

/** Opens K subscribers of `variant`; `onDelivery(version)` is called per delivery. */
async function subscribers(variant: Variant, server: Running, k: number, taskId: string, onDelivery: (version: number) => void) {
  if (variant === 'raw') {
    const sockets: WebSocket[] = await openRawSockets(server.wsUrl.replace(/\/graphql$/, '/'), k, (text) => onDelivery((JSON.parse(text) as { version: number }).version));
    return { close: async () => sockets.forEach((socket) => socket.terminate()) };
  }
  const clients: Client[] = await openWsClients(server.wsUrl, k);
  const query = variant === 'ours' ? 'subscription ($id: ID!) { taskUpdated(id: $id) { id state version progress } }' : 'subscription { tick { id state version progress } }';
  const field = variant === 'ours' ? 'taskUpdated' : 'tick';
  let ready = 0;
  let allReady: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve) => (allReady = resolve));
  for (const client of clients) {
    let first = true;
    client.subscribe<Record<string, { version: number }>>(
      { query, variables: { id: taskId } },
      {
        next: (result) => {
          const version = result.data?.[field]?.version;
          if (version === undefined) return;
          // The first message is the snapshot: the subscription is live from here on.
          if (first) {
            first = false;
            ready += 1;
            if (ready === k) allReady();
            return;
          }
          onDelivery(version);
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
  }
  await readyPromise;
  return { close: () => closeWsClients(clients) };
}

async function measureVariant(system: BenchSystem, variant: Variant, server: Running, api: Running, k: number, paced: boolean): Promise<Phase> {
  const { emitter, taskId } = variant === 'ours' ? await oursEmitter(system, api) : { emitter: await publishEmitter(system), taskId: '' };
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let lastDelivery = 0;
  const subs = await subscribers(variant, server, k, taskId, (version) => {
    const sent = sentAt.get(version);
    if (sent === undefined) return;
    const now = performance.now();
    latencies.push(now - sent);
    lastDelivery = now;
  });
  try {
    // Paced: 1.5 s at the pace; burst: about 20k deliveries (2k at K = 1, where each event is a
    // whole progress write for ours).
    const events = paced
      ? Math.round(Math.min(500, 10_000 / k) * (system.quick ? 0.5 : 1.5))
      : Math.max(10, Math.min(2000, Math.round((system.quick ? 2000 : 20_000) / k)));
    const meter = cpuMeter({ server: server.service.pid });
    const started = performance.now();
    if (paced) {
      const rate = Math.min(500, 10_000 / k);
      let sent = 0;
      while (sent < events) {
        const due = Math.min(events, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
        const batch: Promise<void>[] = [];
        for (; sent < due; sent += 1) {
          const at = performance.now();
          const { version, done } = emitter.emit();
          sentAt.set(version, at);
          batch.push(done);
        }
        await Promise.all(batch);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } else {
      await Promise.all(
        Array.from({ length: events }, () => {
          const at = performance.now();
          const { version, done } = emitter.emit();
          sentAt.set(version, at);
          return done;
        }),
      );
    }
    const expected = events * k;
    const deadline = performance.now() + 15_000;
    while (latencies.length < expected && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    const cpu = meter.stop();
    const seconds = ((lastDelivery || performance.now()) - started) / 1000;
    const summary = latencySummary(latencies);
    return { deliveries: latencies.length, expected, perSecond: latencies.length / seconds, p50: summary.p50, p99: summary.p99, serverCpuPerDelivery: cpu.server! / Math.max(1, latencies.length) };
  } finally {
    await subs.close();
    await emitter.close();
  }
}

export async function benchFanout(system: BenchSystem, api: Running, memory: Running, raw: Running): Promise<Row[]> {
  const ks = system.quick ? [1, 100] : [1, 100, 1000];
  const variants: Variant[] = ['ours', 'memory', 'raw'];
  const servers: Record<Variant, Running> = { ours: api, memory, raw };
  const rows: Row[] = [];
  for (const k of ks) {
    for (const paced of [true, false]) {
      const results: Record<Variant, Phase[]> = { ours: [], memory: [], raw: [] };
      for (let rep = 0; rep < system.reps; rep += 1) {
        const order = variants.slice(rep % 3).concat(variants.slice(0, rep % 3));
        for (const variant of order) results[variant].push(await measureVariant(system, variant, servers[variant], api, k, paced));
        const line = variants.map((v) => `${v} ${results[v].at(-1)!.perSecond.toFixed(0)}/s p99 ${results[v].at(-1)!.p99.toFixed(1)} ms (${results[v].at(-1)!.deliveries}/${results[v].at(-1)!.expected})`);
        system.log(`fan-out K=${k} ${paced ? 'paced' : 'burst'} rep ${rep + 1}: ${line.join(', ')}`);
      }
      const mode = paced ? 'paced' : 'burst';
      const lost = results.ours.map((r) => r.expected - r.deliveries);
      rows.push(
        compared('fan-out', `K=${k} ${mode}: deliveries/s vs raw ws`, '/s', results.ours.map((r) => r.perSecond), 'raw ws', results.raw.map((r) => r.perSecond), !paced && k === 1000 ? { on: 'ratio', op: '>=', value: 0.7 } : undefined),
        compared('fan-out', `K=${k} ${mode}: deliveries/s vs in-memory graphql-ws`, '/s', results.ours.map((r) => r.perSecond), 'in-memory', results.memory.map((r) => r.perSecond)),
        {
          ...compared('fan-out', `K=${k} ${mode}: p99 latency`, 'ms', results.ours.map((r) => r.p99), 'raw ws', results.raw.map((r) => r.p99)),
          ...(paced && k === 1000 ? { target: { on: 'value' as const, op: '<=' as const, value: 50 } } : {}),
        },
        compared('fan-out', `K=${k} ${mode}: p50 latency`, 'ms', results.ours.map((r) => r.p50), 'raw ws', results.raw.map((r) => r.p50)),
        compared('fan-out', `K=${k} ${mode}: server CPU per delivery`, 'µs', results.ours.map((r) => r.serverCpuPerDelivery), 'raw ws', results.raw.map((r) => r.serverCpuPerDelivery)),
      );
      if (lost.some((n) => n > 0)) rows.push({ scenario: 'fan-out', measure: `K=${k} ${mode}: deliveries missing after 15 s`, unit: '', runs: lost });
    }
  }
  return rows;
}
