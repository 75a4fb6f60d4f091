/**
 * streaming (issue 15, live output): 100 tasks stream at once, 50 chunks each, every chunk to
 * the 10 subscribers of its task; against a bare `ws` floor in the same run.
 *
 * Ours: a worker (the real one, OpenRouter provider) calls the fake OpenRouter in this process,
 * which streams 49 pieces `delayMs` apart; with OUTPUT_FLUSH_CHARS=1 each piece is one append
 * (the taskAppendOutput script: XADD + PUBLISH), and the completion adds the final chunk (no
 * text): 50 chunks a task. The API server routes them from its one output-channel subscription
 * to the `taskOutput` subscribers (graphql-ws clients here, 10 subscriptions per connection,
 * each connection watching 10 different tasks). The fake holds every request until all 1,000
 * subscriptions are open, so every chunk is followed live, none read back from the stream.
 *
 * Floor (bench/baselines/raw-ws-streams.ts): this process publishes the same frames, at the same
 * pace and sizes (a graphql-ws `next` message with the same fields), on one Redis channel; a
 * bare `ws` server routes each to its task's sockets. Redis pub/sub stays in between because a
 * worker and an API server are different processes: a floor without that hop would measure an
 * architecture this service cannot have. What it leaves out is what live output adds: the
 * provider's HTTP stream and the worker, the script (fence, stored chunk, stats), the feed
 * (order, gaps, task events), GraphQL execution and graphql-ws serialization per subscriber.
 *
 * Paced, not a burst: at 50 ms between pieces, every task appends as often as the worker's
 * default policy (OUTPUT_FLUSH_MS=50) ever lets it, so the load is the heaviest a real stream
 * gives (100 tasks × 20 chunks/s × 10 subscribers = 20,000 deliveries/s offered). Task starts
 * are spread evenly over one pause, as independent tasks would be. Deliveries/s then shows
 * whether the system keeps up; latency and CPU per delivery show what it costs.
 *
 * Latency is per piece: the subscriber's receipt minus the send time stamped into the piece
 * (the fake stamps it as it writes the SSE event; the floor as it publishes). For ours it spans
 * provider → worker → script → server → subscriber; a tap on the Redis channel splits off the
 * part before the server. The final chunk counts as a delivery, not as a latency sample.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import type WebSocket from 'ws';
import type { Service } from '../../chaos/services.ts';
import { createRedisClient, parseRedisUrl } from '../../common/redis-connection.ts';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { defaultAnswer, startFakeOpenRouter, streamedAnswer, type FakeOpenRouter, type RecordedRequest } from '../../tools/fake-openrouter.ts';
import { cpuMeter, postGraphQL, redisCpuMicros } from '../lib/measure.ts';
import { compared, type Row } from '../lib/report.ts';
import { stamped, stampedOnSend, stampedPieces } from '../lib/stamped-text.ts';
import { StreamRecorder, tapChannel, type StreamRun } from '../lib/stream-recorder.ts';
import { closeWsClients, openRawSockets, openWsClients, startRawWsStreams, startWorkers, stopAll, type BenchSystem, type Running } from '../lib/system.ts';

interface Shape {
  tasks: number;
  /** Chunks per task, the final one included. */
  chunks: number;
  subscribersPerTask: number;
  subscriptionsPerConnection: number;
  /** Pause between pieces. */
  delayMs: number;
  /** Characters per piece (a coalesced append of a real stream is tens of characters). */
  pieceChars: number;
}

const FULL: Shape = { tasks: 100, chunks: 50, subscribersPerTask: 10, subscriptionsPerConnection: 10, delayMs: 50, pieceChars: 64 };
const QUICK: Shape = { tasks: 20, chunks: 10, subscribersPerTask: 5, subscriptionsPerConnection: 5, delayMs: 50, pieceChars: 64 };

const CHANNEL = 'bench:streams';
const SUBMIT = 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }';
const OUTPUT = 'subscription ($id: ID!) { taskOutput(id: $id) { taskId cursor attempt text reset final } }';
/** graphql-ws ids are UUIDs: the floor's frames carry one of the same length. */
const FLOOR_SUBSCRIPTION_ID = '00000000-0000-4000-8000-000000000000';
/** How long the last chunk may take after the schedule's end before the run counts it missing. */
const DRAIN_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const subscriptionsOf = (shape: Shape) => shape.tasks * shape.subscribersPerTask;
const connectionsOf = (shape: Shape) => Math.ceil(subscriptionsOf(shape) / shape.subscriptionsPerConnection);
/** Task `index`'s start: spread evenly over one pause. */
const startOffsetMs = (shape: Shape, index: number) => (index / shape.tasks) * shape.delayMs;
/** When the last task's final chunk is due: its start, the pause before the first piece, the pieces, the end of the stream. */
const scheduleMs = (shape: Shape) => shape.delayMs + (shape.chunks + 2) * shape.delayMs;
/** Most of the pieces' schedule: the least the stamps of a run may span (see StreamRecorder.result). */
const minStampSpreadMs = (shape: Shape) => (shape.chunks - 3) * shape.delayMs * 0.8;

/**
 * Subscription slot s = j × tasks + t (subscriber j of task t) sits on connection ⌊s / per
 * connection⌋: every connection watches different tasks, every task is watched from different
 * connections.
 */
function* slots(shape: Shape): Generator<{ task: number; connection: number }> {
  for (let s = 0; s < subscriptionsOf(shape); s += 1) {
    yield { task: s % shape.tasks, connection: Math.floor(s / shape.subscriptionsPerConnection) };
  }
}

async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`streaming: timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function subscriptionsOpen(api: Running): Promise<number> {
  const response = await fetch(new URL('/metrics', api.url));
  return Number(/^atf_ws_subscriptions (\d+)/m.exec(await response.text())?.[1] ?? 0);
}

function taskIndexOf(request: RecordedRequest): number {
  const messages = (request.body as { messages?: { role: string; content: string }[] }).messages ?? [];
  const match = /streaming bench task (\d+)/.exec(messages.find((m) => m.role === 'user')?.content ?? '');
  if (!match) throw new Error('streaming: the fake was asked about a task this run did not submit');
  return Number(match[1]);
}

/**
 * Scripts the fake for one run: each request waits for the gate, then for its task's start,
 * and streams the stamped pieces. `held()` counts the requests waiting.
 */
function holdAndStream(fake: FakeOpenRouter, shape: Shape, gate: Promise<number>): { held(): number } {
  const text = stampedPieces(shape.chunks - 1, shape.pieceChars).join('');
  let held = 0;
  fake.script(async (request) => {
    const index = taskIndexOf(request);
    held += 1;
    const at = await gate;
    await sleep(at + startOffsetMs(shape, index) - performance.now());
    const answer = streamedAnswer(request, { chunks: shape.chunks - 1, delayMs: shape.delayMs, text });
    return { ...answer, events: stampedOnSend(answer.events!) };
  });
  return { held: () => held };
}

async function submitTasks(api: Running, count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const body = JSON.stringify({ query: SUBMIT, variables: { input: { content: `This is streaming bench task ${i}. It streams.` } } });
      const answer = await postGraphQL(api.url, body);
      const id = (answer.data?.submitTask as { id?: string } | undefined)?.id;
      if (!id) throw new Error(`streaming: submit failed: ${JSON.stringify(answer.errors)}`);
      return id;
    }),
  );
}

async function runOurs(system: BenchSystem, shape: Shape, api: Running, worker: Service, fake: FakeOpenRouter): Promise<StreamRun> {
  const recorder = new StreamRecorder(subscriptionsOf(shape), shape.chunks);
  let openGate: (at: number) => void = () => undefined;
  const gate = new Promise<number>((resolve) => (openGate = resolve));
  const requests = holdAndStream(fake, shape, gate);
  const clients: Client[] = await openWsClients(api.wsUrl, connectionsOf(shape));
  let tap: { close(): void } | null = null;
  try {
    tap = await tapChannel(system, createRedisKeys().outputChannel(), (message) => recorder.onPublished(message));
    const ids = await submitTasks(api, shape.tasks);
    for (const { task, connection } of slots(shape)) {
      clients[connection]!.subscribe<{ taskOutput: { text: string; final: boolean } }>(
        { query: OUTPUT, variables: { id: ids[task]! } },
        {
          next: (result) => {
            const chunk = result.data?.taskOutput;
            if (chunk) recorder.onChunk(chunk.text, chunk.final);
            else recorder.errors += 1;
          },
          error: () => (recorder.errors += 1),
          complete: () => undefined,
        },
      );
    }
    // Every task is with the worker (its provider call held) and every subscription is open.
    await waitUntil(() => requests.held() >= shape.tasks, 20_000, 'the worker to call the provider for every task');
    await waitUntil(async () => (await subscriptionsOpen(api)) >= subscriptionsOf(shape), 20_000, 'every subscription to open');
    // /metrics counts a subscription once graphql-ws registered it; its feed follows the output
    // channel a Redis round trip or two later. A chunk before that would still arrive (read from
    // the stream), only later: give the last feeds time to get there.
    await sleep(300);
    const meter = cpuMeter({ server: api.service.pid, worker: worker.pid, bench: process.pid });
    const redisBefore = await redisCpuMicros(system.redis.client);
    const gateAt = performance.now();
    openGate(gateAt);
    await recorder.drained(gateAt + scheduleMs(shape) + DRAIN_MS);
    const cpu = { ...meter.stop(), redis: (await redisCpuMicros(system.redis.client)) - redisBefore };
    return recorder.result(gateAt, cpu, minStampSpreadMs(shape));
  } finally {
    fake.script(defaultAnswer);
    tap?.close();
    await closeWsClients(clients);
  }
}

/** One floor task: the fake's schedule (a pause, the pieces `delayMs` apart, two more events, the end). */
async function publishTask(publish: (taskId: string, frame: string) => Promise<unknown>, shape: Shape, taskId: string, pieces: string[], startAt: number): Promise<void> {
  const frame = (seq: number, text: string, final: boolean) =>
    JSON.stringify({ id: FLOOR_SUBSCRIPTION_ID, type: 'next', payload: { data: { taskOutput: { taskId, cursor: `1-${seq}`, attempt: 1, text, reset: seq === 1, final } } } });
  await sleep(startAt - performance.now());
  await sleep(shape.delayMs);
  for (const [i, piece] of pieces.entries()) {
    await publish(taskId, frame(i + 1, stamped(piece), false));
    await sleep(shape.delayMs);
  }
  await sleep(2 * shape.delayMs);
  await publish(taskId, frame(pieces.length + 1, '', true));
}

async function runFloor(system: BenchSystem, shape: Shape, floor: Running): Promise<StreamRun> {
  const recorder = new StreamRecorder(subscriptionsOf(shape), shape.chunks);
  const ids = Array.from({ length: shape.tasks }, () => randomUUID());
  let routed = 0;
  const sockets: WebSocket[] = await openRawSockets(floor.wsUrl.replace(/\/graphql$/, '/'), connectionsOf(shape), (text) => {
    if (text.startsWith('ok ')) {
      routed += 1;
      return;
    }
    const chunk = (JSON.parse(text) as { payload: { data: { taskOutput: { text: string; final: boolean } } } }).payload.data.taskOutput;
    recorder.onChunk(chunk.text, chunk.final);
  });
  const publisher = createRedisClient(parseRedisUrl(system.redis.url), { name: 'bench-stream-publisher', commandTimeoutMs: 0 });
  let tap: { close(): void } | null = null;
  try {
    tap = await tapChannel(system, CHANNEL, (message) => recorder.onPublished(message));
    await publisher.connect();
    for (const { task, connection } of slots(shape)) sockets[connection]!.send(`sub ${ids[task]}`);
    await waitUntil(() => routed === subscriptionsOf(shape), 20_000, 'the floor to route every subscription');
    const pieces = stampedPieces(shape.chunks - 1, shape.pieceChars);
    const publish = (taskId: string, frame: string) => publisher.publish(CHANNEL, `${taskId}\n${frame}`);
    const meter = cpuMeter({ server: floor.service.pid, bench: process.pid });
    const redisBefore = await redisCpuMicros(system.redis.client);
    const gateAt = performance.now();
    await Promise.all(ids.map((id, i) => publishTask(publish, shape, id, pieces, gateAt + startOffsetMs(shape, i))));
    await recorder.drained(gateAt + scheduleMs(shape) + DRAIN_MS);
    const cpu = { ...meter.stop(), redis: (await redisCpuMicros(system.redis.client)) - redisBefore };
    return recorder.result(gateAt, cpu, minStampSpreadMs(shape));
  } finally {
    publisher.disconnect();
    tap?.close();
    for (const socket of sockets) socket.terminate();
  }
}

const summary = (run: StreamRun) =>
  `${run.perSecond.toFixed(0)}/s p50 ${run.p50.toFixed(1)} p99 ${run.p99.toFixed(1)} ms (published: p50 ${run.publishP50.toFixed(1)} p99 ${run.publishP99.toFixed(1)}), ` +
  `server ${(run.cpu.server! / run.deliveries).toFixed(1)} µs/delivery (${run.deliveries}/${run.expected}${run.errors ? `, ${run.errors} errors` : ''})`;

function rowsOf(shape: Shape, ours: StreamRun[], raw: StreamRun[]): Row[] {
  const label = `${shape.tasks} tasks × ${shape.chunks} chunks × ${shape.subscribersPerTask} subscribers`;
  /** CPU µs of `processes` per delivery, or per chunk appended (deliveries / subscribers per task). */
  const per = (runs: StreamRun[], processes: string[], by: 'delivery' | 'chunk') =>
    runs.map((run) => processes.reduce((sum, name) => sum + run.cpu[name]!, 0) / (run.deliveries / (by === 'chunk' ? shape.subscribersPerTask : 1)));
  const rows: Row[] = [
    compared('streaming', `${label}: deliveries/s`, '/s', ours.map((r) => r.perSecond), 'raw ws', raw.map((r) => r.perSecond)),
    compared('streaming', 'chunk-to-subscriber p50 (provider sends → subscriber has it)', 'ms', ours.map((r) => r.p50), 'raw ws', raw.map((r) => r.p50)),
    compared('streaming', 'chunk-to-subscriber p99', 'ms', ours.map((r) => r.p99), 'raw ws', raw.map((r) => r.p99)),
    compared('streaming', 'of which provider sends → chunk published, p50', 'ms', ours.map((r) => r.publishP50), 'raw ws', raw.map((r) => r.publishP50)),
    compared('streaming', 'of which provider sends → chunk published, p99', 'ms', ours.map((r) => r.publishP99), 'raw ws', raw.map((r) => r.publishP99)),
    compared('streaming', 'server CPU per delivery', 'µs', per(ours, ['server'], 'delivery'), 'raw ws', per(raw, ['server'], 'delivery')),
    compared('streaming', 'CPU per delivery: server + worker + Redis', 'µs', per(ours, ['server', 'worker', 'redis'], 'delivery'), 'raw ws + Redis', per(raw, ['server', 'redis'], 'delivery')),
    { scenario: 'streaming', measure: 'worker CPU per chunk', unit: 'µs', runs: per(ours, ['worker'], 'chunk') },
    compared('streaming', 'Redis CPU per chunk', 'µs', per(ours, ['redis'], 'chunk'), 'PUBLISH only', per(raw, ['redis'], 'chunk')),
    compared('streaming', 'bench CPU per delivery (subscribers; fake provider or publisher)', 'µs', per(ours, ['bench'], 'delivery'), 'raw ws', per(raw, ['bench'], 'delivery')),
  ];
  // Under load the worker merges pieces that wait while an append is in flight: fewer, longer chunks.
  if (ours.some((run) => run.deliveries < run.expected)) {
    rows.push({ scenario: 'streaming', measure: 'chunks per task (the worker merged pieces)', unit: '', runs: ours.map((r) => r.deliveries / subscriptionsOf(shape)) });
  }
  for (const [name, runs] of [['ours', ours], ['raw ws', raw]] as const) {
    if (runs.some((run) => run.pieces < run.expectedPieces || run.unfinished > 0 || run.errors > 0)) {
      rows.push({ scenario: 'streaming', measure: `${name}: pieces lost / subscriptions unfinished / errors`, unit: '', runs: runs.flatMap((r) => [r.expectedPieces - r.pieces, r.unfinished, r.errors]) });
    }
  }
  return rows;
}

export async function benchStreaming(system: BenchSystem, api: Running): Promise<Row[]> {
  const shape = system.quick ? QUICK : FULL;
  const fake = await startFakeOpenRouter();
  const started: { floor?: Running; workers?: Service[] } = {};
  try {
    // One worker takes every task at once. OUTPUT_FLUSH_CHARS=1: each piece is appended as soon
    // as the append before it is answered (the first at once); the pause between pieces is the
    // flush interval, so the worker merges pieces only when an append takes longer than that.
    [started.floor, started.workers] = await Promise.all([
      startRawWsStreams(system, CHANNEL),
      startWorkers(system, 1, {
        PROVIDER: 'auto',
        OPENROUTER_API_KEY: 'sk-or-bench',
        OPENROUTER_BASE_URL: fake.baseUrl,
        WORKER_CONCURRENCY: String(shape.tasks),
        OUTPUT_FLUSH_CHARS: '1',
        OUTPUT_FLUSH_MS: String(shape.delayMs),
        CIRCUIT_VOLUME_THRESHOLD: '100000',
      }),
    ]);
    const { floor, workers } = started as Required<typeof started>;
    const ours: StreamRun[] = [];
    const raw: StreamRun[] = [];
    for (let rep = 0; rep < system.reps; rep += 1) {
      const measureOurs = async () => void ours.push(await runOurs(system, shape, api, workers[0]!, fake));
      const measureFloor = async () => void raw.push(await runFloor(system, shape, floor));
      for (const measure of rep % 2 === 0 ? [measureOurs, measureFloor] : [measureFloor, measureOurs]) await measure();
      system.log(`streaming rep ${rep + 1}: ours ${summary(ours.at(-1)!)}; raw ws ${summary(raw.at(-1)!)}`);
    }
    return rowsOf(shape, ours, raw);
  } finally {
    await Promise.allSettled([started.floor?.stop(), started.workers && stopAll(started.workers), fake.close()]);
  }
}
