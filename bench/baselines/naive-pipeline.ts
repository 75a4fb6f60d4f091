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
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import BeeQueue from 'bee-queue';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { useServer } from 'graphql-ws/use/ws';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
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

const httpServer = createServer((req, res) => {
  void (async () => {
    if (!req.url?.startsWith('/graphql')) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
    const raw = Buffer.concat(chunks).toString('utf8');
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: new URL(req.url, 'http://localhost').search, body: raw ? JSON.parse(raw) : undefined },
      context: async () => ({}),
    });
    for (const [name, value] of result.headers) res.setHeader(name, value);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  })().catch(() => res.destroy());
});
useServer({ schema }, new WebSocketServer({ server: httpServer, path: '/graphql' }));

httpServer.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'baseline listening', port: (httpServer.address() as AddressInfo).port }));
});
process.on('SIGTERM', () => process.exit(0));
