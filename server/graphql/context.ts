import type { Logger } from '../../common/logger.ts';
import type { FlowService } from '../services/flow-service.ts';
import type { DeadLetterService } from '../services/dead-letter-service.ts';
import type { ProviderService } from '../services/provider-service.ts';
import type { QueueService } from '../services/queue-service.ts';
import type { WorkerService } from '../services/worker-service.ts';
import type { TaskService } from '../services/task-service.ts';
import type { OutputService } from '../services/output-service.ts';
import type { UsageService } from '../services/usage-service.ts';
import type { AuditService } from '../services/audit-service.ts';
import type { DispatchService } from '../services/dispatch-service.ts';
import type { Caller } from '../auth/scopes.ts';
import type { Backlog } from '../services/backlog.ts';
import type { RequestTrace } from '../tracing/server-tracing.ts';

/** What every resolver receives, over HTTP and WebSocket alike. */
export interface GraphQLContext {
  caller: Caller;
  tasks: TaskService;
  outputs: OutputService;
  usage: UsageService;
  queues: QueueService;
  deadLetters: DeadLetterService;
  workers: WorkerService;
  provider: ProviderService;
  audit: AuditService;
  dispatch: DispatchService;
  /** False when the server runs without API keys. */
  authenticationRequired: boolean;
  /** TRACE_URL_TEMPLATE, for the web app's link to a task's trace; null when unset. */
  traceUrlTemplate: string | null;
  flow: FlowService;
  logger: Logger;
  /** Over HTTP with tracing on: the request's trace scope, for a submit's spans (server/tracing). */
  requestTrace: RequestTrace | null;
  /** Over WebSocket: how far this connection's subscriptions may fall behind, together. */
  backlog?: Backlog;
  /** Over WebSocket: this subscription's operation selects `Task.content` (its feed reads contents ahead). */
  prefetchContent?: boolean;
}

/** What the WebSocket transport knows of one subscription, for its context. */
export interface SubscriptionScope {
  backlog?: Backlog;
  prefetchContent: boolean;
}
