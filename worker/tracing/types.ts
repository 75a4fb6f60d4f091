/**
 * What the runner sees of tracing: a hook per attempt. Types only, so the runner loads no
 * OpenTelemetry module when tracing is off (worker/tracing/worker-tracing.ts implements it).
 */
import type { QueueName } from '../../schema/src/redis-keys.ts';
import type { ClaimedTask } from '../task-store.ts';

/** One attempt's span, from its claim to its end. */
export interface AttemptTrace {
  /** Runs the attempt with its span active: its log lines carry the span's ids, its model call is a child. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Ends the span; `abortReason` (a cancel, a lost lease, a shutdown) says how, when nothing else did. */
  end(abortReason: unknown): void;
}

export interface AttemptTracer {
  /** Starts the span of the attempt the dispatcher just claimed; never throws. */
  start(task: ClaimedTask & { taskId: string }, queue: QueueName): Promise<AttemptTrace>;
}
