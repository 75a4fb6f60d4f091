/**
 * Workers as operators see them (heartbeats and circuit breakers), the commands that reach
 * every worker's breaker, and a live view of them.
 */
import type { Logger } from '../../common/logger.ts';
import { Channels } from '../../schema/src/channels.ts';
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import { CircuitCommand } from '../../schema/src/circuit.ts';
import type { TaskEventBus } from '../infra/task-events.ts';
import type { WorkerHeartbeat, WorkerRegistry } from '../infra/worker-registry.ts';
import { createSharedFeed } from './shared-feed.ts';

export interface WorkerView extends WorkerHeartbeat {
  alive: boolean;
}

export interface WorkerServiceOptions {
  registry: WorkerRegistry;
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

  /**
   * Gives every worker's breaker a command and waits (briefly) until each live worker has
   * applied it, so the answer shows its effect. Workers that are away apply it when back.
   */
  async function command(action: CircuitCommand): Promise<WorkerView[]> {
    let commandId: string;
    try {
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

  return {
    list,
    resetCircuits: () => command(CircuitCommand.RESET),
    openCircuits: () => command(CircuitCommand.OPEN),
    watch: feed.watch,
    dispose: feed.dispose,
  };
}
