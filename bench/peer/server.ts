/**
 * Bench-only peer: the API process of the pipeline a BullMQ user would build for what this
 * service does (issue 25), measured beside ours by bench/scenarios/peer.ts. Never started by
 * the service itself.
 *
 * - Apollo Server 5 on node:http: `submitTask(input)` adds a job to a BullMQ `Queue` and answers
 *   `{ id state version }`, the same shape as ours, so the bench sends both the same documents.
 * - graphql-ws on the same /graphql path: `taskUpdated(id)` yields the job's state now, then
 *   its end, read back by one `QueueEvents` (the queue's event stream) into an in-process
 *   `PubSub` (graphql-subscriptions), one trigger per job.
 * - bench/peer/worker.ts runs the jobs, in processes of their own.
 *
 * BullMQ, Apollo and graphql-ws with their documented defaults: no task record of our own, no
 * lease or fencing beyond BullMQ's lock, no event history, no limits, no auth.
 */
import { ApolloServer } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { serveApolloOnNodeHttp } from '../lib/apollo-node-http.ts';
import { Queue, QueueEvents } from 'bullmq';
import { PubSub } from 'graphql-subscriptions';
import { PEER_QUEUE, peerConnection, type PeerTask } from './queue.ts';

const typeDefs = /* GraphQL */ `
  enum TaskState { PENDING ACTIVE COMPLETED DLQ }
  type Task { id: ID! state: TaskState! version: Int! }
  input SubmitTaskInput { content: String! idempotencyKey: String }
  type Query { task(id: ID!): Task }
  type Mutation { submitTask(input: SubmitTaskInput!): Task! }
  type Subscription { taskUpdated(id: ID!): Task! }
`;

const connection = peerConnection();
const queue = new Queue<{ content: string }, string>(PEER_QUEUE, { connection });
const events = new QueueEvents(PEER_QUEUE, { connection });
const pubsub = new PubSub<Record<string, PeerTask>>();
const trigger = (id: string) => `task:${id}`;
// BullMQ re-emits Redis connection errors; unheard, an 'error' event would end the process.
const onError = (error: Error) => console.error(JSON.stringify({ msg: 'peer server error', error: error.message }));
queue.on('error', onError);
events.on('error', onError);

// The queue's event stream, read once per process and fanned out in memory: a subscriber
// costs Redis nothing. A job that failed has used its attempts (BullMQ's default is one).
events.on('completed', ({ jobId }) => void pubsub.publish(trigger(jobId), { id: jobId, state: 'COMPLETED', version: 3 }));
events.on('failed', ({ jobId }) => void pubsub.publish(trigger(jobId), { id: jobId, state: 'DLQ', version: 3 }));

const STATES: Record<string, PeerTask['state']> = { waiting: 'PENDING', prioritized: 'PENDING', delayed: 'PENDING', active: 'ACTIVE', completed: 'COMPLETED', failed: 'DLQ' };
const isTerminal = (task: PeerTask) => task.state === 'COMPLETED' || task.state === 'DLQ';

async function current(id: string): Promise<PeerTask | null> {
  const state = await queue.getJobState(id);
  if (state === 'unknown') return null;
  return { id, state: STATES[state] ?? 'PENDING', version: state === 'completed' || state === 'failed' ? 3 : state === 'active' ? 2 : 1 };
}

const schema = makeExecutableSchema({
  typeDefs,
  resolvers: {
    Query: { task: (_root: unknown, { id }: { id: string }) => current(id) },
    Mutation: {
      submitTask: async (_root: unknown, { input }: { input: { content: string; idempotencyKey?: string | null } }): Promise<PeerTask> => {
        // BullMQ's own deduplication: a job id that exists already is not added again.
        const job = await queue.add('summarize', { content: input.content }, input.idempotencyKey ? { jobId: input.idempotencyKey } : {});
        return { id: job.id!, state: 'PENDING', version: 1 };
      },
    },
    Subscription: {
      taskUpdated: {
        subscribe: async function* (_root: unknown, { id }: { id: string }) {
          const live = pubsub.asyncIterableIterator(trigger(id));
          // next() adds the listener at once; the state read after it covers a job that
          // ended before then (the subscribe-before-publish race).
          const next = live.next();
          try {
            const now = await current(id);
            if (!now) throw new Error(`no task ${id}`);
            yield now;
            if (isTerminal(now)) return;
            const update = await next;
            if (!update.done) yield update.value;
          } finally {
            await live.return?.();
          }
        },
        resolve: (task: PeerTask) => task,
      },
    },
  },
});

const apollo = new ApolloServer({ schema });
await Promise.all([apollo.start(), queue.waitUntilReady(), events.waitUntilReady()]);

serveApolloOnNodeHttp(apollo, schema, 'peer');
process.on('SIGTERM', () => {
  void Promise.allSettled([events.close(), queue.close()]).then(() => process.exit(0));
});
