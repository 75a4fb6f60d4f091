/**
 * Workers as operators see them (heartbeats and circuit breakers), the model breakers every
 * worker shares, the commands that reach both, and a live view of each.
 */
import type { Logger } from '../../common/logger.ts';
import { Channels } from '../../schema/src/channels.ts';
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import { CircuitCommand } from '../../schema/src/circuit.ts';
import type { ModelBreakerStore, ModelStatusView } from '../infra/model-breaker-store.ts';
import type { TaskEventBus } from '../infra/task-events.ts';
import type { WorkerHeartbeat, WorkerRegistry } from '../infra/worker-registry.ts';
import { createSharedFeed } from './shared-feed.ts';

export interface WorkerView extends WorkerHeartbeat {
  alive: boolean;
}

export interface WorkerServiceOptions {
  registry: WorkerRegistry;
  /** The shared breaker of each model: listed by `models`, reset and forced open with the workers' breakers. */
  modelBreakers: ModelBreakerStore;
  events: TaskEventBus;
  logger: Logger;
  /** A worker is alive while its last heartbeat is younger than this. */
  staleMs: number;
  /** How long a command waits for the live workers to confirm it. */
  commandAckTimeoutMs: number;
  coalesceMs: number;
  resyncIntervalMs: number;
}

export type WorkerService = ReturnType<typeof createWorkerService>;

export function createWorkerService(options: WorkerServiceOptions) {
  const { registry, logger } = options;

  const unavailable = (cause: unknown) => new AppError(ErrorCode.UNAVAILABLE, 'worker status is unavailable; try again', { retryable: true, cause });

  /** Workers seen within ten stale periods: the recently gone ones show as not alive. */
  async function list(): Promise<WorkerView[]> {
    const now = Date.now();
    try {
      const workers = await registry.aliveSince(now - options.staleMs * 10);
      return workers.map((worker) => ({ ...worker, alive: worker.lastHeartbeatAt > now - options.staleMs }));
    } catch (cause) {
      throw unavailable(cause);
    }
  }

  /** Each model's breaker now: the configured chain first, then every other model called. */
  async function models(): Promise<ModelStatusView[]> {
    try {
      return await options.modelBreakers.list();
    } catch (cause) {
      throw unavailable(cause);
    }
  }

  /**
   * Gives every worker's breaker a command and waits (briefly) until each live worker has
   * applied it, so the answer shows its effect. Workers that are away apply it when back. The
   * model breakers change first, in Redis, so a worker applying the command reads them changed.
   */
  async function command(action: CircuitCommand): Promise<WorkerView[]> {
    let commandId: string;
    try {
      const models = await (action === CircuitCommand.RESET ? options.modelBreakers.reset() : options.modelBreakers.forceOpen());
      logger.info({ action, models }, 'model breakers commanded');
      commandId = await registry.commandCircuits(action);
    } catch (cause) {
      throw unavailable(cause);
    }
    logger.info({ action, commandId }, 'circuit command given');
    const deadline = Date.now() + options.commandAckTimeoutMs;
    for (;;) {
      const workers = await list();
      if (workers.every((worker) => !worker.alive || worker.circuitCommandId === commandId) || Date.now() > deadline) return workers;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const feed = createSharedFeed({
    name: 'workers',
    logger,
    compute: list,
    listen: (onHint) => options.events.on(Channels.workers, onHint),
    coalesceMs: options.coalesceMs,
    resyncIntervalMs: options.resyncIntervalMs,
  });

  // The model breakers change on hints from their scripts; their counts, with every call: the resync shows those.
  const modelFeed = createSharedFeed({
    name: 'models',
    logger,
    compute: models,
    listen: (onHint) => options.events.on(Channels.modelBreakers, onHint),
    coalesceMs: options.coalesceMs,
    resyncIntervalMs: options.resyncIntervalMs,
  });

  return {
    list,
    models,
    /** All-time calls by model and outcome (for /metrics). */
    modelCallTotals: () => options.modelBreakers.totals(),
    resetCircuits: () => command(CircuitCommand.RESET),
    openCircuits: () => command(CircuitCommand.OPEN),
    watch: feed.watch,
    watchModels: modelFeed.watch,
    dispose: () => {
      feed.dispose();
      modelFeed.dispose();
    },
  };
}
