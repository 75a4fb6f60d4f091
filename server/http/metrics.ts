/**
 * GET /metrics in the Prometheus text format (prom-client). Two kinds of series:
 * - cluster-wide ones read from Redis at scrape time (task counters and latency histograms
 *   kept by the task scripts, provider calls recorded by workers, queue depths, breakers, the
 *   model breakers and their call counts):
 *   every API replica reports the same values, so aggregate them with max(), not sum();
 * - this process's own (WebSocket connections and subscriptions, Node process metrics).
 * When Redis cannot be read, the cluster-wide series are left out and atf_redis_up is 0.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import { parseDispatchStats, parseProviderCallStats, parseTaskStats, type DispatchStats, type LatencyHistogram, type TaskStats } from '../../schema/src/task-stats.ts';
import { parseUsageTotalField, UsageTotalKind } from '../../schema/src/scripts/usage.ts';
import type { WebSocketCounts } from '../graphql/ws.ts';
import type { QueueService, QueueStatusSnapshot } from '../services/queue-service.ts';
import type { WorkerService, WorkerView } from '../services/worker-service.ts';
import type { ModelStatusView } from '../infra/model-breaker-store.ts';

export interface MetricsOptions {
  redis: Redis;
  keys: RedisKeys;
  queues: QueueService;
  workers: WorkerService;
  /** This process's WebSocket connections and subscriptions, and slow subscribers it closed. */
  webSocketCounts: () => WebSocketCounts;
}

interface ClusterSnapshot {
  tasks: TaskStats;
  dispatch: DispatchStats;
  /** All-time usage counters (`parseUsageTotalField`) -> count (kind costNano: nano-dollars). */
  usageTotals: Record<string, string>;
  providerCalls: Map<string, LatencyHistogram>;
  queue: QueueStatusSnapshot;
  workers: WorkerView[];
  models: ModelStatusView[];
  modelCalls: Awaited<ReturnType<WorkerService['modelCallTotals']>>;
}

type Sample = { labels?: Record<string, string | number>; value: number; metricName?: string };

const CIRCUIT_VALUE = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 } as const;

function histogramSamples(name: string, histogram: LatencyHistogram, labels: Record<string, string> = {}): Sample[] {
  return [
    ...histogram.buckets.map((bucket) => ({
      metricName: `${name}_bucket`,
      labels: { ...labels, le: bucket.le === Infinity ? '+Inf' : bucket.le / 1000 },
      value: bucket.count,
    })),
    { metricName: `${name}_sum`, labels, value: histogram.sumMs / 1000 },
    { metricName: `${name}_count`, labels, value: histogram.count },
  ];
}

export function createMetrics(options: MetricsOptions) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'atf_server_' });
  let snapshot: ClusterSnapshot | null = null;

  /** A series computed from the scrape's Redis snapshot; absent while Redis is unreadable. */
  const cluster = (name: string, help: string, type: 'counter' | 'gauge' | 'histogram', samples: (s: ClusterSnapshot) => Sample[]) =>
    registry.registerMetric({
      name,
      help,
      type,
      aggregator: 'max',
      get: async () => ({ name, help, type, aggregator: 'max', values: snapshot ? samples(snapshot) : [] }),
    } as never);

  cluster('atf_tasks_submitted_total', 'Tasks accepted, by type.', 'counter', (s) =>
    Object.entries(s.tasks.submitted).map(([type, value]) => ({ labels: { type }, value })));
  cluster('atf_tasks_completed_total', 'Tasks completed, by type.', 'counter', (s) =>
    Object.entries(s.tasks.completed).map(([type, value]) => ({ labels: { type }, value })));
  cluster('atf_tasks_failed_total', 'Failed attempts, by error class (a task may fail several times before it completes or goes to the DLQ).', 'counter', (s) =>
    Object.entries(s.tasks.failed).map(([error_class, value]) => ({ labels: { error_class }, value })));
  cluster('atf_model_switches_total', 'Tasks moved on to another model of their chain, by reason: STREAM_BROKEN (a stream broke after output began), CONTEXT_LENGTH, CONTENT_FILTER.', 'counter', (s) =>
    Object.entries(s.tasks.modelSwitches).map(([reason, value]) => ({ labels: { reason }, value })));
  cluster('atf_task_transitions_total', 'Times a task entered each state.', 'counter', (s) =>
    Object.entries(s.tasks.entered).map(([state, value]) => ({ labels: { state }, value })));
  cluster('atf_stale_lease_rejections_total', 'Worker writes refused because their lease was no longer current.', 'counter', (s) => [{ value: s.tasks.staleWrites }]);
  cluster('atf_output_chunks_total', 'Live output chunks appended to tasks (final chunks included).', 'counter', (s) => [{ value: s.tasks.outputChunks }]);
  cluster('atf_output_bytes_total', 'Bytes of live output appended to tasks.', 'counter', (s) => [{ value: s.tasks.outputBytes }]);
  // Nano-dollars are divided (not multiplied by 1e-9): 4200000 / 1e9 is 0.0042, 4200000 * 1e-9 is not.
  const usageSamples = (s: ClusterSnapshot, pick: (kind: string) => string | null, divisor = 1): Sample[] =>
    Object.entries(s.usageTotals).flatMap(([field, value]) => {
      const total = parseUsageTotalField(field);
      const label = total === null ? null : pick(total.kind);
      return total === null || label === null ? [] : [{ labels: { tenant: total.tenant, model: total.model, ...(label ? { kind: label } : {}) }, value: Number(value) / divisor }];
    });
  cluster('atf_llm_tokens_total', 'Tokens of billed provider calls, by tenant, model and kind (prompt, completion, cached, reasoning).', 'counter', (s) =>
    usageSamples(s, (kind) => (kind === UsageTotalKind.COST_NANO || kind === UsageTotalKind.ESTIMATED_COST_NANO ? null : kind)));
  cluster('atf_llm_cost_usd_total', 'Cost of billed provider calls in USD, by tenant and model.', 'counter', (s) =>
    usageSamples(s, (kind) => (kind === UsageTotalKind.COST_NANO ? '' : null), 1e9));
  cluster('atf_llm_estimated_cost_usd_total', 'The part of atf_llm_cost_usd_total that is estimated (calls the provider never reported), by tenant and model.', 'counter', (s) =>
    usageSamples(s, (kind) => (kind === UsageTotalKind.ESTIMATED_COST_NANO ? '' : null), 1e9));
  cluster('atf_task_wait_seconds', 'From submission to the first claim by a worker.', 'histogram', (s) => histogramSamples('atf_task_wait_seconds', s.tasks.wait));
  cluster('atf_task_duration_seconds', 'From the first claim to completion (retries included).', 'histogram', (s) => histogramSamples('atf_task_duration_seconds', s.tasks.duration));
  cluster('atf_provider_call_duration_seconds', 'Provider calls by outcome (ok, the HTTP status, or the error class), as workers record them.', 'histogram', (s) =>
    [...s.providerCalls].flatMap(([status, histogram]) => histogramSamples('atf_provider_call_duration_seconds', histogram, { status })));
  cluster('atf_dispatch_waiting', "Tasks in the dispatcher's lines now, by tenant and priority.", 'gauge', (s) =>
    s.dispatch.waiting.map(({ tenant, priority, value }) => ({ labels: { tenant, priority }, value })));
  cluster('atf_dispatch_starts_total', 'Tasks the dispatcher started, by tenant and priority.', 'counter', (s) =>
    s.dispatch.starts.map(({ tenant, priority, value }) => ({ labels: { tenant, priority }, value })));
  cluster('atf_dispatch_tokens_started_total', 'Estimated tokens (prompt plus MAX_COMPLETION_TOKENS) of the tasks the dispatcher started, by tenant.', 'counter', (s) =>
    s.dispatch.tokensStarted.map(({ tenant, value }) => ({ labels: { tenant }, value })));
  cluster('atf_dispatch_wait_seconds', "From joining a dispatcher line (submit, a retry coming due) to the start.", 'histogram', (s) => histogramSamples('atf_dispatch_wait_seconds', s.dispatch.wait));
  cluster('atf_dispatch_tokens_reserved_total', 'Tokens reserved against PROVIDER_TOKEN_LIMIT by the tasks started.', 'counter', (s) => [{ value: s.dispatch.tokensReserved }]);
  cluster('atf_queue_depth', 'Jobs waiting per queue (scheduled: delayed retries; dlq: dead letter queue).', 'gauge', (s) =>
    (['primary', 'retry', 'scheduled', 'dlq'] as const).map((queue) => ({ labels: { queue }, value: s.queue[queue] })));
  cluster('atf_tasks_in_state', 'Tasks in each state now.', 'gauge', (s) => s.queue.states.map(({ state, count }) => ({ labels: { state }, value: count })));
  cluster('atf_circuit_state', "Each live worker's provider circuit breaker: 0 closed, 1 half-open, 2 open.", 'gauge', (s) =>
    s.workers.filter((worker) => worker.alive).map((worker) => ({ labels: { worker: worker.id }, value: CIRCUIT_VALUE[worker.circuit.state] })));
  cluster('atf_model_calls_total', "Calls to each model by outcome: ok, failed (the model is unwell: 5xx, timeout, broken stream, warm-up), other (the request's fault, a rate limit, cancelled).", 'counter', (s) =>
    s.modelCalls.map(({ model, outcome, count }) => ({ labels: { model, outcome }, value: count })));
  cluster('atf_model_breaker_state', "Each model's breaker, shared by every worker: 0 closed, 1 half-open, 2 open.", 'gauge', (s) =>
    s.models.map((model) => ({ labels: { model: model.model }, value: CIRCUIT_VALUE[model.state] })));
  cluster('atf_workers_alive', 'Workers whose heartbeat is fresh.', 'gauge', (s) => [{ value: s.workers.filter((worker) => worker.alive).length }]);

  const redisUp = new Gauge({ name: 'atf_redis_up', help: '1 when this scrape could read Redis.', registers: [registry] });
  new Gauge({
    name: 'atf_ws_connections',
    help: 'Open WebSocket connections on this API process.',
    registers: [registry],
    collect() {
      this.set(options.webSocketCounts().connections);
    },
  });
  new Gauge({
    name: 'atf_ws_subscriptions',
    help: 'Open GraphQL subscriptions on this API process.',
    registers: [registry],
    collect() {
      this.set(options.webSocketCounts().subscriptions);
    },
  });
  new Counter({
    name: 'atf_ws_slow_subscribers_closed_total',
    help: 'WebSocket connections this API process closed with 4480 because they fell behind (WS_SUBSCRIBER_MAX_EVENTS / WS_SUBSCRIBER_MAX_BYTES).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(options.webSocketCounts().slowSubscribersClosed);
    },
  });

  async function readCluster(): Promise<ClusterSnapshot | null> {
    try {
      const [taskFields, providerFields, queue, workers, usageTotals, models, modelCalls] = await Promise.all([
        options.redis.hgetall(options.keys.taskStats()),
        options.redis.hgetall(options.keys.providerCallStats()),
        options.queues.status(),
        options.workers.list(),
        options.redis.hgetall(options.keys.usageTotals()),
        options.workers.models(),
        options.workers.modelCallTotals(),
      ]);
      return {
        tasks: parseTaskStats(taskFields),
        dispatch: parseDispatchStats(taskFields),
        providerCalls: parseProviderCallStats(providerFields),
        queue,
        workers,
        usageTotals,
        models,
        modelCalls,
      };
    } catch {
      return null;
    }
  }

  // Scrapes run one at a time: each renders from the snapshot it read.
  let scrapes: Promise<unknown> = Promise.resolve();
  const render = async () => {
    snapshot = await readCluster();
    redisUp.set(snapshot ? 1 : 0);
    return registry.metrics();
  };

  async function handle(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = scrapes.then(render);
    scrapes = body.catch(() => undefined);
    const text = await body;
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(text);
  }

  return { handle };
}
