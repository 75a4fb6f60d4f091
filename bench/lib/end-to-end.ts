/**
 * The end-to-end closed loop every comparison in the bench shares: `clients` clients each submit
 * a task and follow it over `taskUpdated(id)` to its end, against a pipeline (ours, the naive one,
 * or the BullMQ peer), with tasks/s, latency and CPU per task by process. Used by the end-to-end,
 * dispatch, tracing and peer scenarios.
 */
import type { Client } from 'graphql-ws';
import { cpuMeter, latencySummary, postGraphQL } from './measure.ts';
import { closeWsClients, openWsClients, type BenchSystem, type NaivePipeline, type Running } from './system.ts';

const CONTENT = 'Redis is an in-memory data store. Job queues are often built on Redis lists. The weather was nice.';
const SUBMIT = 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id state version } }';
const WATCH = 'subscription ($id: ID!) { taskUpdated(id: $id) { id state version } }';
const NAIVE_SUBMIT = 'mutation ($content: String!) { submitTask(content: $content) }';
const NAIVE_WATCH = 'subscription ($id: ID!) { taskUpdated(id: $id) { id state } }';
const TERMINAL = new Set(['COMPLETED', 'DLQ', 'CANCELLED']);

const submitBody = (n: number) => JSON.stringify({ query: SUBMIT, variables: { input: { content: `${CONTENT} #${n}` } } });

type Cpu = Record<string, number>;

/** CPU µs per operation, by process. */
export const perOp = (cpu: Cpu, ops: number): Cpu => Object.fromEntries(Object.entries(cpu).map(([name, micros]) => [name, micros / Math.max(1, ops)]));

export interface EndToEndResult {
  tasks: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Submits that failed, and watches that saw no terminal event within WATCH_TIMEOUT_MS. */
  errors: number;
  /** CPU µs per task, by process. */
  cpu: Cpu;
}

/** A pipeline the end-to-end clients drive: how to submit and watch, and which processes work. */
export interface Pipeline {
  url: string;
  wsUrl: string;
  apiPid: number;
  workerPids: number[];
  submitBody(n: number): string;
  /** The task id in the submit answer, or undefined if the submit failed. */
  submittedId(answer: { data?: Record<string, unknown> }): string | undefined;
  /** The subscription, with `$id: ID!`, whose `taskUpdated.state` ends in a TERMINAL state. */
  watch: string;
}

/** Our service: the real API server and workers. */
export function ourPipeline(api: Running, workerPids: number[]): Pipeline {
  return {
    url: api.url,
    wsUrl: api.wsUrl,
    apiPid: api.service.pid,
    workerPids,
    submitBody,
    submittedId: (answer) => (answer.data?.submitTask as { id: string } | undefined)?.id,
    watch: WATCH,
  };
}

/** The naive pipeline (bench/baselines/naive-pipeline.ts): its mutation answers the job id. */
export function naivePipeline(naive: NaivePipeline): Pipeline {
  return {
    url: naive.server.url,
    wsUrl: naive.server.wsUrl,
    apiPid: naive.server.service.pid,
    workerPids: naive.workers.map((worker) => worker.pid),
    submitBody: (n) => JSON.stringify({ query: NAIVE_SUBMIT, variables: { content: `${CONTENT} #${n}` } }),
    submittedId: (answer) => (typeof answer.data?.submitTask === 'string' ? answer.data.submitTask : undefined),
    watch: NAIVE_WATCH,
  };
}

/** A watch that sees no terminal event for this long counts as an error, so a lost event cannot hang the bench. */
const WATCH_TIMEOUT_MS = 15_000;

/**
 * `clients` closed-loop clients, each with its own graphql-ws connection: submit, watch the
 * task on its own `taskUpdated` subscription until the terminal event, repeat.
 */
/** Told when the measured window opens and closes (a profiler that records that window only). */
export interface WindowHooks {
  opened(): void;
  closed(): void;
}

export interface EndToEndOptions {
  hooks?: WindowHooks;
  /**
   * Submits at most this many tasks a second, all clients together (a start every 1/n s):
   * pipelines compared at one rate below both their ceilings do the same work per second, so
   * their CPU per task differs by what a task costs, not by how busy each was. Default: no pacing.
   */
  perSecond?: number;
}

export async function endToEnd(system: BenchSystem, pipeline: Pipeline, clients: number, seconds: number, options: EndToEndOptions = {}): Promise<EndToEndResult> {
  const { hooks, perSecond } = options;
  const sockets: Client[] = await openWsClients(pipeline.wsUrl, clients);
  // The next start the pace allows; a client that missed its start goes at once, not in a burst later.
  let nextStart = performance.now();
  const pace = async () => {
    if (!perSecond) return;
    const now = performance.now();
    const at = Math.max(nextStart, now);
    nextStart = at + 1000 / perSecond;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  };
  let running = true;
  let measuring = false;
  let errors = 0;
  const latencies: number[] = [];
  let n = 0;
  const waitTerminal = (client: Client, id: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        dispose();
        reject(new Error(`no terminal event for ${id} after ${WATCH_TIMEOUT_MS} ms`));
      }, WATCH_TIMEOUT_MS);
      const dispose = client.subscribe<{ taskUpdated: { state: string } }>(
        { query: pipeline.watch, variables: { id } },
        {
          next: (result) => {
            if (result.data && TERMINAL.has(result.data.taskUpdated.state)) {
              clearTimeout(timer);
              dispose();
              resolve();
            }
          },
          error: (error) => {
            clearTimeout(timer);
            reject(error);
          },
          complete: () => undefined,
        },
      );
    });
  const loop = async (client: Client) => {
    while (running) {
      await pace();
      if (!running) break;
      const started = performance.now();
      try {
        const answer = await postGraphQL(pipeline.url, pipeline.submitBody(n++), clients);
        const id = pipeline.submittedId(answer);
        if (!id) throw new Error(JSON.stringify(answer.errors));
        await waitTerminal(client, id);
        if (measuring) latencies.push(performance.now() - started);
      } catch {
        if (measuring) errors += 1;
      }
    }
  };
  const loops = sockets.map(loop);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const pids: Record<string, number | null> = { api: pipeline.apiPid, redis: system.redis.pid(), bench: process.pid };
  pipeline.workerPids.forEach((pid, i) => (pids[`worker${i}`] = pid));
  hooks?.opened();
  const meter = cpuMeter(pids);
  measuring = true;
  const windowStart = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - windowStart) / 1000;
  const cpuRaw = meter.stop();
  hooks?.closed();
  running = false;
  await Promise.all(loops);
  await closeWsClients(sockets);
  // Workers are summed: the question is what a task costs, wherever it ran.
  let workers = 0;
  for (const [name, micros] of Object.entries(cpuRaw)) if (name.startsWith('worker')) workers += micros;
  const cpu: Cpu = { api: cpuRaw.api!, workers, redis: cpuRaw.redis!, bench: cpuRaw.bench! };
  const summary = latencySummary(latencies);
  return { tasks: latencies.length, perSecond: latencies.length / elapsed, p50: summary.p50, p99: summary.p99, errors, cpu: perOp(cpu, latencies.length) };
}
