/** Measuring helpers for the bench: percentiles, CPU meters per process, closed-loop HTTP load. */
import { Agent, request } from 'node:http';
import type { Redis } from 'ioredis';
import { processCpuMicros } from '../../chaos/services.ts';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function latencySummary(latencies: number[]): { p50: number; p99: number; n: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** CPU time of named processes over a window: start(), then stop() gives µs per process. */
export function cpuMeter(pids: Record<string, number | null>) {
  const read = () =>
    Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [name, pid === null ? 0 : pid === process.pid ? cpuOfSelf() : processCpuMicros(pid)]),
    );
  const before = read();
  return {
    /** CPU µs each process used since the meter was made. */
    stop(): Record<string, number> {
      const after = read();
      return Object.fromEntries(Object.keys(pids).map((name) => [name, after[name]! - before[name]!]));
    },
  };
}

function cpuOfSelf(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** Commands Redis has processed so far (INFO stats). */
export async function redisCommandCount(redis: Redis): Promise<number> {
  const info = await redis.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? 0);
}

/**
 * CPU time (user + system, all threads) redis-server has used so far, µs, from its own INFO
 * (getrusage): microseconds, where /proc gives 10 ms ticks. Costs one INFO command.
 */
export async function redisCpuMicros(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1_000_000;
}

export interface HttpLoadResult {
  /** Every answer's latency inside the window, ms. */
  latencies: number[];
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

const agents = new Map<number, Agent>();

/** POSTs a GraphQL operation over a keep-alive agent; resolves with the parsed body. */
export function postGraphQL(url: string, body: string, maxSockets = 256): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }> {
  let agent = agents.get(maxSockets);
  if (!agent) {
    agent = new Agent({ keepAlive: true, maxSockets });
    agents.set(maxSockets, agent);
  }
  const target = new URL('/graphql', url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (error) {
            reject(error);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * `clients` closed-loop clients, each sending `makeBody(i)` and waiting for the answer, for
 * `seconds` after `warmupSeconds`. Only answers inside the window count.
 */
export async function httpLoad(options: {
  url: string;
  clients: number;
  seconds: number;
  warmupSeconds: number;
  makeBody(n: number): string;
  isOk(answer: { data?: Record<string, unknown>; errors?: unknown[] }): boolean;
  onWindow?: { start(): void; stop(): void };
}): Promise<HttpLoadResult> {
  let n = 0;
  let measuring = false;
  let running = true;
  const latencies: number[] = [];
  let errors = 0;
  const loop = async () => {
    while (running) {
      const body = options.makeBody(n++);
      const started = performance.now();
      try {
        const answer = await postGraphQL(options.url, body, options.clients);
        if (!options.isOk(answer)) throw new Error(JSON.stringify(answer.errors));
        if (measuring) latencies.push(performance.now() - started);
      } catch {
        if (measuring) errors += 1;
      }
    }
  };
  const loops = Array.from({ length: options.clients }, loop);
  if (options.warmupSeconds > 0) await new Promise((resolve) => setTimeout(resolve, options.warmupSeconds * 1000));
  measuring = true;
  options.onWindow?.start();
  const windowStart = performance.now();
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  measuring = false;
  const seconds = (performance.now() - windowStart) / 1000;
  options.onWindow?.stop();
  running = false;
  await Promise.all(loops);
  const summary = latencySummary(latencies);
  return { latencies, requests: latencies.length, errors, seconds, perSecond: latencies.length / seconds, p50: summary.p50, p99: summary.p99 };
}

/** Several slices of one load, taken as one: requests and latencies pooled, CPU summed. */
export function pooled<T extends HttpLoadResult & { cpu: Record<string, number> }>(slices: T[]): HttpLoadResult & { cpu: Record<string, number> } {
  const latencies = slices.flatMap((slice) => slice.latencies);
  const seconds = slices.reduce((sum, slice) => sum + slice.seconds, 0);
  const summary = latencySummary(latencies);
  const cpu: Record<string, number> = {};
  for (const slice of slices) for (const [name, micros] of Object.entries(slice.cpu)) cpu[name] = (cpu[name] ?? 0) + micros;
  return {
    latencies,
    requests: latencies.length,
    errors: slices.reduce((sum, slice) => sum + slice.errors, 0),
    seconds,
    perSecond: latencies.length / seconds,
    p50: summary.p50,
    p99: summary.p99,
    cpu,
  };
}
