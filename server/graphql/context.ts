import type { Logger } from '../../common/logger.ts';
import type { FlowService } from '../services/flow-service.ts';
import type { DeadLetterService } from '../services/dead-letter-service.ts';
import type { ProviderService } from '../services/provider-service.ts';
import type { QueueService } from '../services/queue-service.ts';
import type { WorkerService } from '../services/worker-service.ts';
import type { Caller, TaskService } from '../services/task-service.ts';

/** What every resolver receives, over HTTP and WebSocket alike. */
export interface GraphQLContext {
  caller: Caller;
  tasks: TaskService;
  queues: QueueService;
  deadLetters: DeadLetterService;
  workers: WorkerService;
  provider: ProviderService;
  flow: FlowService;
  logger: Logger;
}
