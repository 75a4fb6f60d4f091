/**
 * The model breakers as the API reads and commands them (the state: schema/src/model-breakers.ts;
 * the scripts: schema/src/scripts/model-breakers.ts): each model's breaker with its recent
 * counts, the all-time call totals, and the operators' reset and forced open, which act on the
 * shared state at once (the workers see it through the hint and their next read).
 */
import type { Redis } from 'ioredis';
import { createTaskScriptRunner } from '../../common/task-script-runner.ts';
import { CircuitState } from '../../schema/src/circuit.ts';
import { decodeModelBreakers, effectiveState, parseModelTotalField, windowCounts, type ModelCallOutcome } from '../../schema/src/model-breakers.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';

export interface ModelBreakerStoreOptions {
  redis: Redis;
  keys: RedisKeys;
  /** The configured chain (OPENROUTER_MODELS, else OPENROUTER_MODEL): listed, and forced open, even before any call. */
  models: readonly string[];
  /** CIRCUIT_WINDOW_MS: the window the recent counts cover. */
  windowMs: number;
}

/** One model's breaker as operators see it (times in Redis ms). */
export interface ModelStatusView {
  model: string;
  configured: boolean;
  state: CircuitState;
  openedAt: number | null;
  halfOpenAt: number | null;
  calls: number;
  failures: number;
  failureRate: number;
}

export type ModelBreakerStore = ReturnType<typeof createModelBreakerStore>;

export function createModelBreakerStore(options: ModelBreakerStoreOptions) {
  const { redis, keys } = options;
  const runScript = createTaskScriptRunner(redis, keys);
  const common = { maxEvents: 1, actor: '' };
  const scope = { taskId: '', tenant: '' };
  const configured = new Set(options.models);

  /** The configured chain in its order, then every other model called, by name; each with its breaker and counts now. */
  async function list(): Promise<ModelStatusView[]> {
    const [timeReply, breakersReply] = (await redis.pipeline().time().hgetall(keys.modelBreakers()).exec()) ?? [];
    if (!timeReply || timeReply[0] || !breakersReply || breakersReply[0]) throw timeReply?.[0] ?? breakersReply?.[0] ?? new Error('model breakers not read');
    const [seconds, micros] = timeReply[1] as [string, string];
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const breakers = decodeModelBreakers(breakersReply[1] as Record<string, string>);
    const models = [...options.models, ...[...breakers.keys()].filter((model) => !configured.has(model)).sort()];
    const counts = models.length === 0 ? [] : ((await models.reduce((pipeline, model) => pipeline.hgetall(keys.modelCalls(model)), redis.pipeline()).exec()) ?? []);
    return models.map((model, i) => {
      const [error, fields] = counts[i] ?? [null, {}];
      if (error) throw error;
      const breaker = breakers.get(model);
      const { calls, failures } = windowCounts((fields ?? {}) as Record<string, string>, now, options.windowMs);
      return {
        model,
        configured: configured.has(model),
        state: breaker ? effectiveState(breaker, now) : CircuitState.CLOSED,
        openedAt: breaker?.openedAt ?? null,
        halfOpenAt: breaker?.halfOpenAt ?? null,
        calls,
        failures,
        failureRate: calls === 0 ? 0 : failures / calls,
      };
    });
  }

  /** All-time calls by model and outcome. */
  async function totals(): Promise<{ model: string; outcome: ModelCallOutcome; count: number }[]> {
    return Object.entries(await redis.hgetall(keys.modelCallTotals())).flatMap(([field, value]) => {
      const parsed = parseModelTotalField(field);
      return parsed ? [{ ...parsed, count: Number(value) || 0 }] : [];
    });
  }

  return {
    list,
    totals,
    /** Closes every model's breaker and clears its counts; resolves with how many. */
    reset: () => runScript('modelBreakersReset', scope, common, { breakers: keys.modelBreakers() }, {}),
    /** Opens every model's breaker, configured or called, with no probe until a reset; resolves with how many. */
    forceOpen: () => runScript('modelBreakersForceOpen', scope, common, { breakers: keys.modelBreakers() }, { models: options.models.join('\n') }),
  };
}
