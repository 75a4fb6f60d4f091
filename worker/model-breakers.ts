/**
 * The model breakers as one worker sees them: a cache of every model's breaker (the shared
 * state in Redis, schema/src/model-breakers.ts), read whole (one HGETALL) every `refreshMs` and
 * again at once on a hint from the model breakers channel, so an open breaker is seen well
 * within a second on every worker. Questions about a breaker are answered from the cache, with
 * no round trip; only the probe (at a breaker's half-open time) and the record of each call's
 * outcome go to Redis, and the record does not hold up the task.
 *
 * What callers use (the runner, for the model chain):
 *   isOpen(model)          true while calls must not go to the model: open before its probe time,
 *                          forced open, or half-open with another caller's probe under way.
 *   available(chain)       the models of `chain` not open, in order (a model due a probe counts:
 *                          `acquire` decides who probes).
 *   allOpenUntil(chain)    null when some model of `chain` may be tried now; else the earliest
 *                          time one may (a forced-open model: now + the open time).
 *   acquire(model)         a call to the model, or null when it may not go now. Closed: at once,
 *                          from the cache. Due a probe: asks Redis for the probe lease; one
 *                          caller of all workers gets it, the others get null.
 *   ModelCall.record(o)    the call's outcome (`ok`, `failed` when worker/resilience.ts'
 *                          `countsAgainstProvider` says the model is unwell, else `other`, which
 *                          includes a cancelled call; `modelOutcomeOf(error, aborted)` there
 *                          decides): sent without waiting, errors logged. A probe's outcome
 *                          closes or re-opens the breaker; record every call acquired (once; a
 *                          second record is ignored), or a probe holds its lease until it runs
 *                          out. A stream that broke on one model and goes on with the next: record
 *                          `failed` for the first (a broken stream counts), then acquire the next.
 *   closings()             how many times this worker saw a breaker close: a change tells a
 *                          caller that a breaker closed between its refusal and its deferral.
 * The worker wires `refresh` (at start, and before applying an operator's circuit command),
 * `onHint` (the channel router) and `stop`; `drain` is for the bench.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger.ts';
import { createTaskScriptRunner } from '../common/task-script-runner.ts';
import { CircuitState } from '../schema/src/circuit.ts';
import { CLOSED_BREAKER, decodeModelBreakers, type ModelBreakerRecord, type ModelCallOutcome } from '../schema/src/model-breakers.ts';
import type { RedisKeys } from '../schema/src/redis-keys.ts';

export interface ModelBreakerSettings {
  /** CIRCUIT_FAILURE_THRESHOLD: the share of failed calls that opens a breaker. */
  failureRatio: number;
  /** CIRCUIT_VOLUME_THRESHOLD: calls in the window before the share counts. */
  volumeThreshold: number;
  /** CIRCUIT_TIMEOUT: open this long before a probe. */
  openMs: number;
  /** CIRCUIT_WINDOW_MS: the window calls are counted in. */
  windowMs: number;
}

export interface ModelBreakersOptions {
  redis: Redis;
  keys: RedisKeys;
  logger: Logger;
  settings: ModelBreakerSettings;
  /** How long a probe holds its lease without an outcome (a call's deadline and a margin). */
  probeLeaseMs: number;
  /** How often the cache is read whole when no hint came. Default 500 ms. */
  refreshMs?: number;
  /** Told when this worker's probe closed a model's breaker (the tasks held for it may go now). */
  onProbeClosed?: (model: string) => void;
}

/** A call the breakers let through: record its outcome once it has one. */
export interface ModelCall {
  readonly model: string;
  /** This call is its breaker's half-open probe. */
  readonly probe: boolean;
  /** Records how the call ended; later calls are ignored. */
  record(outcome: ModelCallOutcome): void;
}

export type ModelBreakers = ReturnType<typeof createModelBreakers>;

type Status = 'closed' | 'probe' | 'open';

export function createModelBreakers(options: ModelBreakersOptions) {
  const { redis, keys, logger, settings } = options;
  const runScript = createTaskScriptRunner(redis, keys);
  const common = { maxEvents: 1, actor: '' };
  const scope = { taskId: '', tenant: '' };
  let breakers = new Map<string, ModelBreakerRecord>();
  let closings = 0;
  const pending = new Set<Promise<unknown>>();

  /** Replaces one model's cached breaker; counts a close. */
  function remember(model: string, next: ModelBreakerRecord): void {
    const before = breakers.get(model) ?? CLOSED_BREAKER;
    breakers.set(model, next);
    if (before.state !== CircuitState.CLOSED && next.state === CircuitState.CLOSED) closings += 1;
  }

  let refreshing: Promise<void> | null = null;
  let again = false;
  /** Reads every breaker (one round trip); a call during a read makes one more read after it. */
  function refresh(): Promise<void> {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        again = false;
        const read = decodeModelBreakers(await redis.hgetall(keys.modelBreakers()));
        for (const model of breakers.keys()) if (!read.has(model)) remember(model, CLOSED_BREAKER);
        for (const [model, record] of read) remember(model, record);
      } while (again);
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }
  const refreshLogged = () => refresh().catch((error: Error) => logger.warn({ err: error.message }, 'model breakers not read; using the last reading'));
  const timer = setInterval(refreshLogged, options.refreshMs ?? 500);
  timer.unref();

  function status(model: string, now = Date.now()): Status {
    const breaker = breakers.get(model) ?? CLOSED_BREAKER;
    if (breaker.state === CircuitState.CLOSED) return 'closed';
    if (breaker.state === CircuitState.OPEN) return breaker.halfOpenAt !== null && breaker.halfOpenAt <= now ? 'probe' : 'open';
    return breaker.probeUntil !== null && breaker.probeUntil > now ? 'open' : 'probe';
  }

  /** When an open model may be tried again. */
  function openUntil(model: string, now: number): number {
    const breaker = breakers.get(model) ?? CLOSED_BREAKER;
    // A half-open breaker whose probe fails opens for another open time: look again by then at the latest.
    if (breaker.state === CircuitState.HALF_OPEN) return Math.min(breaker.probeUntil ?? now, now + settings.openMs);
    return breaker.halfOpenAt ?? now + settings.openMs;
  }

  /** Sends a call's outcome; the reply updates the cache at once (this worker need not wait for the hint). */
  function send(model: string, outcome: ModelCallOutcome, probeToken: string): void {
    const sent = runScript(
      'modelBreakerRecord',
      scope,
      common,
      { breakers: keys.modelBreakers(), calls: keys.modelCalls(model), probe: keys.modelProbe(model), totals: keys.modelCallTotals() },
      {
        model,
        outcome,
        probeToken,
        windowMs: settings.windowMs,
        volumeThreshold: settings.volumeThreshold,
        failureRatio: settings.failureRatio,
        openMs: settings.openMs,
      },
    ).then(
      (reply) => {
        if (reply.status === 'opened') {
          remember(model, { state: CircuitState.OPEN, openedAt: Date.now(), halfOpenAt: reply.halfOpenAt, probeUntil: null });
          logger.warn({ model, calls: reply.calls, failures: reply.failures }, 'model breaker opened');
        } else if (reply.status === 'closed') {
          remember(model, CLOSED_BREAKER);
          logger.info({ model }, 'model breaker closed by its probe');
          options.onProbeClosed?.(model);
        }
      },
      (error: Error) => logger.warn({ err: error.message, model, outcome }, 'model call not recorded'),
    );
    pending.add(sent);
    void sent.finally(() => pending.delete(sent));
  }

  function callTo(model: string, probeToken: string): ModelCall {
    let recorded = false;
    return {
      model,
      probe: probeToken !== '',
      record(outcome) {
        if (recorded) return;
        recorded = true;
        send(model, outcome, probeToken);
      },
    };
  }

  /** Asks Redis for the probe of `model`; the answer updates the cache. */
  async function tryProbe(model: string): Promise<ModelCall | null> {
    const token = randomUUID();
    const answer = await runScript('modelBreakerProbe', scope, common, { breakers: keys.modelBreakers(), probe: keys.modelProbe(model) }, {
      model,
      probeToken: token,
      leaseMs: options.probeLeaseMs,
    });
    const breaker = breakers.get(model) ?? CLOSED_BREAKER;
    const now = Date.now();
    switch (answer.status) {
      case 'probe':
        remember(model, { ...breaker, state: CircuitState.HALF_OPEN, probeUntil: now + options.probeLeaseMs });
        logger.info({ model }, 'model breaker half-open: this worker probes');
        return callTo(model, token);
      case 'closed':
        remember(model, CLOSED_BREAKER);
        return callTo(model, '');
      case 'open':
        remember(model, { ...breaker, state: CircuitState.OPEN, halfOpenAt: answer.halfOpenAt });
        return null;
      case 'busy':
        remember(model, { ...breaker, state: CircuitState.HALF_OPEN, probeUntil: answer.probeUntil });
        return null;
    }
  }

  return {
    /** Reads every breaker now (at start, before the first call). */
    refresh,
    /** A hint from the model breakers channel: read them again now. */
    onHint: () => void refreshLogged(),
    isOpen: (model: string) => status(model) === 'open',
    available: (chain: readonly string[]) => chain.filter((model) => status(model) !== 'open'),
    allOpenUntil(chain: readonly string[]): number | null {
      const now = Date.now();
      if (chain.some((model) => status(model, now) !== 'open')) return null;
      return Math.min(...chain.map((model) => openUntil(model, now)));
    },
    /** A call to `model`, or null when it may not go now (see the header). A probe request that fails is a refusal, logged. */
    async acquire(model: string): Promise<ModelCall | null> {
      const now = status(model);
      if (now === 'closed') return callTo(model, '');
      if (now === 'open') return null;
      return tryProbe(model).catch((error: Error) => {
        logger.warn({ err: error.message, model }, 'model breaker probe not requested');
        return null;
      });
    },
    /**
     * Records the outcome of a call `model` took part in without being acquired: a fallback
     * OpenRouter answered with, or the model a stream broke on after the call's primary was
     * recorded. Never a probe (a half-open model's probe is taken through `acquire`).
     */
    note(model: string, outcome: ModelCallOutcome): void {
      send(model, outcome, '');
    },
    closings: () => closings,
    /** The cached breaker of `model` (closed when it has none). */
    snapshot: (model: string): ModelBreakerRecord => breakers.get(model) ?? CLOSED_BREAKER,
    /** Resolves once the records sent so far are done (written, or their failure logged). */
    async drain(): Promise<void> {
      await Promise.all([...pending]);
    },
    /** Stops the refreshes and waits for the records under way. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await Promise.all([...pending]);
    },
  };
}
