/**
 * What /live, /ready and /health report. Bodies carry states and counts only: no
 * hostnames, versions or error strings.
 */
import type { Redis } from 'ioredis';
import type { TaskQueueProducer } from '../infra/task-queue.ts';
import type { WorkerRegistry } from '../infra/worker-registry.ts';

export interface HealthServiceOptions {
  redis: Redis;
  queue: TaskQueueProducer;
  workers: WorkerRegistry;
  /** A worker counts as alive when its last heartbeat is younger than this. */
  workerStaleMs: number;
  /** Upper bound for each probe, so a hung Redis cannot hang the probe. */
  probeTimeoutMs: number;
}

export type ComponentStatus = 'up' | 'down' | 'degraded';

export interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  components: {
    redis: { status: ComponentStatus };
    workers: { status: ComponentStatus; alive: number };
    queues: { status: ComponentStatus; primary: number | null; retry: number | null };
  };
}

export type HealthService = ReturnType<typeof createHealthService>;

export function createHealthService(options: HealthServiceOptions) {
  const { redis } = options;
  let draining = false;

  const probe = <T>(promise: Promise<T>): Promise<T> =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('probe timeout')), options.probeTimeoutMs).unref()),
    ]);

  async function isRedisUp(): Promise<boolean> {
    if (redis.status !== 'ready') return false;
    try {
      return (await probe(redis.ping())) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Ready for traffic: Redis answers and the process is not shutting down. */
  async function isReady(): Promise<boolean> {
    return !draining && (await isRedisUp());
  }

  async function report(): Promise<HealthReport> {
    const redisUp = await isRedisUp();
    const [workers, depths] = redisUp
      ? await Promise.all([
          probe(options.workers.aliveSince(Date.now() - options.workerStaleMs)).catch(() => null),
          probe(options.queue.depths()).catch(() => null),
        ])
      : [null, null];
    const alive = workers?.length ?? 0;
    const components: HealthReport['components'] = {
      redis: { status: redisUp ? 'up' : 'down' },
      workers: { status: workers === null ? 'down' : alive > 0 ? 'up' : 'down', alive },
      queues: {
        status: depths ? 'up' : 'down',
        primary: depths?.primary ?? null,
        retry: depths?.retry ?? null,
      },
    };
    const status = !redisUp ? 'unhealthy' : alive === 0 || !depths ? 'degraded' : 'healthy';
    return { status, components };
  }

  return {
    isReady,
    report,
    /** From now on /ready answers 503, so load balancers stop sending traffic. */
    startDraining: () => {
      draining = true;
    },
  };
}
