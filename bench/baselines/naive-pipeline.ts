/**
 * Bench-only baseline: the naive pipeline, the same libraries wired the simple way, so the
 * end-to-end scenario can say what our task record, lease and replay cost against it.
 *
 * - Apollo Server 5 on node:http: `submitTask(content)` saves a bee-queue job and returns its id.
 * - bench/baselines/naive-worker.ts runs the job and publishes the result through
 *   graphql-redis-subscriptions on `<prefix>:task:<id>`, after SETting `<prefix>:result:<id>`.
 * - graphql-ws on the same /graphql path: `taskUpdated(id)` is RedisPubSub's
 *   `asyncIterableIterator` for that channel, after a look at the result key.
 *
 * No task record, no lease, no versions, no snapshot or replay, no limits, no auth, library
 * defaults wherever the stack notes do not say otherwise. Everything lives under
 * NAIVE_PREFIX (default `naive`) so it cannot touch the service's keys or queues.
 * Never started by the service itself.
 */
import { ApolloServer } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { serveApolloOnNodeHttp } from '../lib/apollo-node-http.ts';
import BeeQueue from 'bee-queue';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import { beeQueueRedisOptions, parseRedisUrl } from '../../common/redis-connection.ts';
import { naiveNames, type NaiveUpdate } from './naive-names.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const names = naiveNames(process.env.NAIVE_PREFIX);

const typeDefs = /* GraphQL */ `
  type TaskUpdate { id: ID! state: String! summary: String }
  type Query { ok: Boolean! }
  type Mutation { submitTask(content: String!): ID! }
  type Subscription { taskUpdated(id: ID!): TaskUpdate! }
`;

// The producer settings the stack notes give (trap 6): no worker, no events.
const queue = new BeeQueue<{ content: string }>(names.queue, {
  prefix: names.beeQueuePrefix,
  redis: beeQueueRedisOptions(parseRedisUrl(redisUrl)),
  isWorker: false,
  getEvents: false,
  sendEvents: false,
  storeJobs: false,
});
const commands = new Redis(redisUrl);
const pubsub = new RedisPubSub({ publisher: commands, subscriber: new Redis(redisUrl) });

const schema = makeExecutableSchema({
  typeDefs,
  resolvers: {
    Query: { ok: () => true },
    Mutation: {
      submitTask: async (_root: unknown, { content }: { content: string }) => (await queue.createJob({ content }).save()).id,
    },
    Subscription: {
      taskUpdated: {
        subscribe: async function* (_root: unknown, { id }: { id: string }) {
          const live = pubsub.asyncIterableIterator(names.channel(id)) as AsyncIterableIterator<NaiveUpdate>;
          // next() sends SUBSCRIBE at once; the result key then covers a worker that
          // published before it landed (the subscribe-before-publish race).
          const first = live.next();
          try {
            const finished = await commands.get(names.resultKey(id));
            if (finished) {
              yield JSON.parse(finished) as NaiveUpdate;
              return;
            }
            const update = await first;
            if (update.done) return;
            yield update.value;
            yield* live;
          } finally {
            await live.return?.();
          }
        },
        resolve: (update: NaiveUpdate) => update,
      },
    },
  },
});

const apollo = new ApolloServer({ schema });
await Promise.all([apollo.start(), queue.ready()]);

serveApolloOnNodeHttp(apollo, schema, 'baseline');
process.on('SIGTERM', () => process.exit(0));
