/**
 * The worker's tracing (docs/observability.md), put together from the SDK a process started
 * (common/tracing.ts): the attempt tracer the runner calls, and the wrappers that put the model
 * call and the store's writes on the attempt's span. Loaded only when tracing is on.
 */
import type { Redis } from 'ioredis';
import type { Tracing } from '../../common/tracing.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import type { TextProvider } from '../providers/provider.ts';
import type { TaskStore } from '../task-store.ts';
import { AttemptRegistry, createAttemptTracer } from './attempt-trace.ts';
import { traceProvider, type ChatTraceOptions } from './chat-trace.ts';
import { createClaimReasonReader } from './dispatch-wait.ts';
import { traceTaskStore } from './store-trace.ts';
import type { AttemptTracer } from './types.ts';

export interface WorkerTracing {
  attempts: AttemptTracer;
  traceStore(store: TaskStore): TaskStore;
  traceProvider(provider: TextProvider, call: Omit<ChatTraceOptions, 'config' | 'attempts'>): TextProvider;
}

/** What createWorker needs: the tracing of one worker, once its Redis connection exists. */
export type WorkerTracingFactory = (deps: { redis: Redis; keys: RedisKeys }) => WorkerTracing;

export function workerTracing(tracing: Tracing): WorkerTracingFactory {
  return ({ redis, keys }) => {
    const registry = new AttemptRegistry();
    return {
      attempts: createAttemptTracer({ tracing, registry, readClaimReason: createClaimReasonReader(redis, keys) }),
      traceStore: (store) => traceTaskStore(store, registry),
      traceProvider: (provider, call) => traceProvider(provider, { ...call, config: tracing.config, attempts: registry }),
    };
  };
}
