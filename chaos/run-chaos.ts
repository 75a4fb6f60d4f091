/**
 * The chaos run (`npm run chaos`, and `test/chaos.test.ts` in short): 2 API servers and
 * 3 workers as child processes, a private redis-server with AOF, the fake provider with
 * about 5 % errors and random latency, the load generator with its ledger and 200 live
 * subscribers. For `durationMs` it injects random faults; then it lets the system settle and
 * audits invariants I1-I9 (docs/reliability.md, "What nothing lost means") for every accepted task.
 */
import { createRedisKeys } from '../schema/src/redis-keys.ts';
import { TERMINAL_STATES, type TaskState } from '../schema/src/task.ts';
import { audit } from '../test/support/audit.ts';
import { freePort, startRedis, type TestRedis } from '../test/support/redis-server.ts';
import { defaultAnswer, errorAnswer, startFakeOpenRouter, type FakeAnswer, type FakeOpenRouter, type RecordedRequest } from '../tools/fake-openrouter.ts';
import { createChaosLoad, type Watch } from './load.ts';
import { startService, stopService, type Service } from './services.ts';

export interface ChaosOptions {
  durationMs: number;
  /** Mean pause between two faults. */
  faultEveryMs: number;
  ratePerSecond: number;
  subscribers: number;
  /** How long the system may take to settle after the faults stop. */
  settleTimeoutMs: number;
  seed: number;
  log(line: string): void;
}

export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  durationMs: 5 * 60_000,
  faultEveryMs: 4000,
  ratePerSecond: 15,
  subscribers: 200,
  settleTimeoutMs: 120_000,
  seed: 1,
  log: (line) => console.log(line),
};

export interface ChaosReport {
  seconds: number;
  accepted: number;
  completed: number;
  dlq: number;
  cancelled: number;
  submitAttempts: number;
  submitFailures: number;
  resubscribes: number;
  reconnects: number;
  faults: Record<string, number>;
  /** Every list here must be empty. */
  problems: {
    missing: string[];
    duplicateTerminal: string[];
    stuck: string[];
    versions: string[];
    orphans: string[];
    overBudget: string[];
    dlqMismatch: string[];
    indexes: string[];
    missedTerminal: string[];
    idempotency: string[];
  };
  ok: boolean;
}

const TENANT = 'default';
const MAX_RETRIES = 3;
const SAMPLE =
  'Redis is an in-memory data store used as a database, cache and message broker. ' +
  'Job queues are often built on Redis lists because pushing and popping is atomic. The weather was nice.';

/** A seeded generator (mulberry32): the same run for the same seed, as far as timing allows. */
function seeded(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runChaos(overrides: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const options = { ...DEFAULT_CHAOS_OPTIONS, ...overrides };
  const random = seeded(options.seed);
  const log = options.log;
  const keys = createRedisKeys();
  const faults: Record<string, number> = {};
  const started = Date.now();

  let redis: TestRedis | null = null;
  let fake: FakeOpenRouter | null = null;
  const servers: (Service | null)[] = [null, null];
  const workers: (Service | null)[] = [null, null, null];
  const paused = new Set<Service>();
  let load: ReturnType<typeof createChaosLoad> | null = null;
  let fsyncAlways = false;

  try {
    redis = await startRedis({ appendOnly: true });
    fake = await startFakeOpenRouter();
    // About 5 % errors of retryable and permanent kinds, and 0-250 ms of latency.
    fake.script((request: RecordedRequest): FakeAnswer => {
      const roll = random();
      const delayMs = Math.floor(random() * 250);
      if (roll < 0.025) return { ...errorAnswer(503, 'No instances available'), delayMs };
      if (roll < 0.04) return { ...errorAnswer(502, 'Bad gateway'), delayMs };
      if (roll < 0.045) return { status: 200, body: '{"choices": [', delayMs };
      if (roll < 0.05) return { ...errorAnswer(400, 'Invalid request'), delayMs };
      return { ...defaultAnswer(request), delayMs };
    });

    const ports = [await freePort(), await freePort()];
    const serverUrls = ports.map((port) => `http://127.0.0.1:${port}`);
    const serverEnv = (index: number) => ({
      REDIS_URL: redis!.url,
      PORT: String(ports[index]),
      LOG_LEVEL: 'info',
      SERVE_CLIENT: 'false',
      NODE_ENV: 'test',
      MAX_RETRIES: String(MAX_RETRIES),
      SUBSCRIPTION_RESYNC_MS: '1000',
      WS_MAX_SUBSCRIPTIONS: '1000',
      WS_KEEPALIVE_MS: '2000',
      // The run tests loss under faults, not admission control.
      SUBMIT_RATE_LIMIT: 'off',
    });
    const workerEnv = (index: number) => ({
      REDIS_URL: redis!.url,
      WORKER_ID: `chaos-worker-${index}-${Date.now() % 100000}`,
      LOG_LEVEL: 'info',
      OPENROUTER_API_KEY: 'sk-chaos',
      OPENROUTER_BASE_URL: fake!.baseUrl,
      WORKER_CONCURRENCY: '8',
      LEASE_MS: '2000',
      STALL_INTERVAL_MS: '500',
      HEARTBEAT_INTERVAL_MS: '500',
      SWEEP_INTERVAL_MS: '1000',
      SHUTDOWN_GRACE_MS: '1000',
      PROVIDER_TIMEOUT_MS: '5000',
      RETRY_DELAY_SCALE: '0.001',
      // The breaker may open on a burst of errors: tasks then wait briefly, losing no retry.
      CIRCUIT_TIMEOUT: '0.5',
    });
    const startServerAt = async (index: number) => {
      servers[index] = await startService('server', `server-${index}`, serverEnv(index), 90_000);
    };
    const startWorkerAt = async (index: number) => {
      workers[index] = await startService('worker', `worker-${index}`, workerEnv(index), 90_000);
    };
    await Promise.all([0, 1].map(startServerAt));
    await Promise.all([0, 1, 2].map(startWorkerAt));
    log(`chaos: redis ${redis.url}, servers ${serverUrls.join(' ')}, 3 workers; ${options.durationMs / 1000} s of faults`);

    load = createChaosLoad({
      servers: serverUrls,
      ratePerSecond: options.ratePerSecond,
      subscribers: options.subscribers,
      cancelShare: 0.02,
      resendShare: 0.03,
      content: (marker) => `${SAMPLE} [${marker}]`,
      random,
    });
    load.start();
    const faultsFrom = Date.now();

    const liveWorkers = () => workers.map((w, i) => ({ w, i })).filter(({ w }) => w?.alive() && !paused.has(w));
    const pickOf = <T>(items: T[]) => items[Math.floor(random() * items.length)];
    const restartRedis = async (kill: boolean, extraArgs: string[] = []) => {
      await redis!.stop({ kill });
      await new Promise((resolve) => setTimeout(resolve, 200 + random() * 800));
      await redis!.start(extraArgs);
    };
    const count = (name: string) => {
      faults[name] = (faults[name] ?? 0) + 1;
      log(`chaos: t=${((Date.now() - faultsFrom) / 1000).toFixed(1)}s ${name}`);
    };

    const FAULTS: { name: string; weight: number; run(): Promise<void> }[] = [
      {
        name: 'worker SIGKILL',
        weight: 3,
        async run() {
          const target = pickOf(liveWorkers());
          if (!target) return;
          target.w!.signal('SIGKILL');
          await target.w!.exited;
          await new Promise((resolve) => setTimeout(resolve, random() * 1000));
          await startWorkerAt(target.i);
        },
      },
      {
        name: 'worker SIGSTOP/SIGCONT',
        weight: 3,
        async run() {
          const target = pickOf(liveWorkers());
          if (!target) return;
          const w = target.w!;
          paused.add(w);
          w.signal('SIGSTOP');
          // Sometimes shorter, sometimes longer than the lease (2 s).
          setTimeout(() => {
            w.signal('SIGCONT');
            paused.delete(w);
          }, 500 + random() * 4000);
        },
      },
      {
        name: 'worker SIGTERM',
        weight: 1,
        async run() {
          const target = pickOf(liveWorkers());
          if (!target) return;
          target.w!.signal('SIGTERM');
          await target.w!.exited;
          await startWorkerAt(target.i);
        },
      },
      {
        name: 'server SIGTERM',
        weight: 2,
        async run() {
          const index = Math.floor(random() * 2);
          if (!servers[1 - index]?.alive()) return;
          servers[index]!.signal('SIGTERM');
          await servers[index]!.exited;
          await startServerAt(index);
        },
      },
      {
        name: 'server SIGKILL',
        weight: 2,
        async run() {
          const index = Math.floor(random() * 2);
          if (!servers[1 - index]?.alive()) return;
          servers[index]!.signal('SIGKILL');
          await servers[index]!.exited;
          await new Promise((resolve) => setTimeout(resolve, random() * 1500));
          await startServerAt(index);
        },
      },
      { name: 'redis SIGTERM restart', weight: 1, run: () => restartRedis(false) },
      {
        name: 'redis SCRIPT FLUSH',
        weight: 2,
        async run() {
          await redis!.client.script('FLUSH').catch(() => undefined);
        },
      },
      {
        // With appendfsync always, even a SIGKILL loses nothing Redis acknowledged.
        name: 'redis SIGKILL restart (appendfsync always)',
        weight: 1,
        async run() {
          if (!fsyncAlways) {
            await redis!.client.config('SET', 'appendfsync', 'always');
            fsyncAlways = true;
            await restartRedis(true, ['--appendfsync', 'always']);
          } else await restartRedis(true);
        },
      },
    ];
    const totalWeight = FAULTS.reduce((sum, fault) => sum + fault.weight, 0);
    const chooseFault = () => {
      let roll = random() * totalWeight;
      for (const fault of FAULTS) {
        roll -= fault.weight;
        if (roll < 0) return fault;
      }
      return FAULTS[0]!;
    };

    const deadline = faultsFrom + options.durationMs;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, options.faultEveryMs * (0.5 + random())));
      if (Date.now() >= deadline) break;
      const fault = chooseFault();
      count(fault.name);
      try {
        await fault.run();
      } catch (error) {
        log(`chaos: ${fault.name} failed: ${(error as Error).message.split('\n')[0]}`);
      }
    }

    // Quiescence: every process back and running, submissions settled, then the system drains.
    log('chaos: faults stopped; waiting for quiescence');
    for (const w of paused) w.signal('SIGCONT');
    paused.clear();
    if (redis.pid() === null) await redis.start();
    for (const [index, server] of servers.entries()) if (!server?.alive()) await startServerAt(index);
    for (const [index, worker] of workers.entries()) if (!worker?.alive()) await startWorkerAt(index);
    await load.stopSubmitting();

    const ids = [...load.ledger.accepted.values()];
    const providerCalls = () => {
      const calls = new Map<string, number>();
      const idOfKey = load!.ledger.accepted;
      for (const request of fake!.requests) {
        const key = /\[(chaos-\d+)\]/.exec(JSON.stringify(request.body))?.[1];
        const id = key ? idOfKey.get(key) : undefined;
        if (id) calls.set(id, (calls.get(id) ?? 0) + 1);
      }
      return calls;
    };
    const settleBy = Date.now() + options.settleTimeoutMs;
    let problems = await audit(redis.client, keys, ids, { providerCalls: providerCalls(), tenant: TENANT });
    while ((problems.length > 0 || load.pendingWatches().length > 0) && Date.now() < settleBy) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      problems = await audit(redis.client, keys, ids, { providerCalls: providerCalls(), tenant: TENANT });
    }

    // I8: each watch saw its task's final version, in a terminal state, exactly once.
    const missedTerminal: string[] = [];
    const states = new Map<string, { state: TaskState; version: number }>();
    for (const id of ids) {
      const [state, version] = await redis.client.hmget(keys.task(id), 'state', 'version');
      if (state) states.set(id, { state: state as TaskState, version: Number(version) });
    }
    for (const id of ids) {
      const watch: Watch | undefined = load.watches.get(id);
      const final = states.get(id);
      if (!watch || !final) continue;
      const terminalSeen = [...watch.seen].filter(([, state]) => TERMINAL_STATES.has(state as TaskState));
      if (watch.seen.get(final.version) !== final.state || terminalSeen.length !== 1) {
        missedTerminal.push(
          `I8: subscriber ${watch.subscriber} saw ${id} as ${[...watch.seen].map(([v, s]) => `${v}:${s}`).join(',') || 'nothing'}; final ${final.version}:${final.state}`,
        );
      } else if (watch.outOfOrder > 0) missedTerminal.push(`I8: subscriber ${watch.subscriber} got ${id}'s versions out of order`);
    }

    // I9: every key names its accepted task in Redis too.
    const idempotency = [...load.ledger.idempotencyProblems];
    for (const [key, id] of load.ledger.accepted) {
      const stored = await redis.client.get(keys.idempotency(TENANT, key));
      if (!stored?.startsWith(`${id}:`)) idempotency.push(`I9: key ${key} accepted as ${id}, stored as ${stored ?? 'nothing'}`);
    }
    const byPrefix = (...prefixes: string[]) => problems.filter((p) => prefixes.some((prefix) => p.startsWith(prefix)));
    const report: ChaosReport = {
      seconds: Math.round((Date.now() - started) / 1000),
      accepted: ids.length,
      completed: ids.filter((id) => states.get(id)?.state === 'COMPLETED').length,
      dlq: ids.filter((id) => states.get(id)?.state === 'DLQ').length,
      cancelled: ids.filter((id) => states.get(id)?.state === 'CANCELLED').length,
      submitAttempts: load.ledger.submitAttempts,
      submitFailures: load.ledger.submitFailures,
      resubscribes: [...load.watches.values()].reduce((sum, w) => sum + w.resubscribes, 0),
      reconnects: load.ledger.reconnects,
      faults,
      problems: {
        missing: byPrefix('I1'),
        duplicateTerminal: byPrefix('I4'),
        stuck: byPrefix('I2'),
        versions: byPrefix('I3'),
        orphans: byPrefix('I6'),
        overBudget: byPrefix('I5'),
        dlqMismatch: byPrefix('I7'),
        indexes: byPrefix('index', 'retention'),
        missedTerminal,
        idempotency,
      },
      ok: false,
    };
    report.ok = Object.values(report.problems).every((list) => list.length === 0) && report.accepted > 0;
    if (!report.ok) {
      for (const [index, worker] of workers.entries()) log(`--- worker-${index} (last lines)\n${worker?.lines.slice(-15).join('\n')}`);
    }
    return report;
  } finally {
    await load?.close();
    for (const w of paused) w.signal('SIGCONT');
    await Promise.all([...servers, ...workers].map((service) => (service ? stopService(service, 3000) : undefined)));
    await fake?.close();
    await redis?.dispose();
  }
}

/** The report as the lines `npm run chaos` prints. */
export function formatChaosReport(report: ChaosReport): string {
  const lines = [
    `chaos: ${report.seconds} s, faults: ${Object.entries(report.faults).map(([name, n]) => `${name} x${n}`).join(', ') || 'none'}`,
    `accepted ${report.accepted}  completed ${report.completed}  dlq ${report.dlq}  cancelled ${report.cancelled}` +
      `  (submit attempts ${report.submitAttempts}, given up ${report.submitFailures}, subscriber reconnects ${report.reconnects}, re-subscriptions ${report.resubscribes})`,
  ];
  const labels: Record<keyof ChaosReport['problems'], string> = {
    missing: 'I1 missing',
    stuck: 'I2 stuck',
    versions: 'I3 versions',
    duplicateTerminal: 'I4 duplicate terminal',
    overBudget: 'I5 over-budget provider calls',
    orphans: 'I6 orphans',
    dlqMismatch: 'I7 DLQ mismatch',
    indexes: 'indexes',
    missedTerminal: 'I8 subscribers that missed a terminal state',
    idempotency: 'I9 idempotency',
  };
  for (const [name, label] of Object.entries(labels) as [keyof ChaosReport['problems'], string][]) {
    const list = report.problems[name];
    lines.push(`  ${label}: ${list.length}${list.length ? `\n    ${list.slice(0, 20).join('\n    ')}` : ''}`);
  }
  lines.push(report.ok ? 'chaos: every invariant held' : 'chaos: INVARIANTS BROKEN');
  return lines.join('\n');
}
