/**
 * What the runner sees of tracing: a hook per attempt. Types only, so the runner loads no
 * OpenTelemetry module when tracing is off (worker/tracing/worker-tracing.ts implements it).
 */
import type { QueueName } from '../../schema/src/redis-keys.ts';
import type { ClaimedTask } from '../task-store.ts';

/** One attempt's span, from its claim to its end. */
export interface AttemptTrace {
  /** For the attempt's child logger: its lines carry the span's ids. */
  readonly logFields: Readonly<Record<string, string>>;
  /** The attempt's AbortSignal, which its provider call carries: the call's span finds the attempt by it. */
  watch(signal: AbortSignal): void;
  /** Ends the span; `abortReason` (a cancel, a lost lease, a shutdown) says how, when nothing else did. */
  end(abortReason: unknown): void;
}

export interface AttemptTracer {
  /** Starts the span of the attempt the dispatcher just claimed under `leaseToken`; never throws. */
  start(task: ClaimedTask & { taskId: string }, queue: QueueName, leaseToken: string): Promise<AttemptTrace>;
}
