/**
 * Bench-only baseline server, built from the production building blocks (node:http, the same
 * Apollo options, createGraphQLHttpHandler, attachGraphQLWs with the same limits) around a
 * tiny schema: a mutation that does nothing but answer, and a subscription fed by an
 * in-memory PubSub. The bench compares the real server against it in the same run.
 *
 * Every message on the Redis channel BENCH_CHANNEL is published once into the in-memory
 * PubSub (one Redis message in, fan-out in memory), as the real server does with
 * graphql-redis-subscriptions. Never started by the service itself.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { PubSub } from 'graphql-subscriptions';
import { Redis } from 'ioredis';
import type { Authenticator } from '../../server/auth/authenticator.ts';
import { anonymousCaller, type Caller } from '../../server/auth/scopes.ts';
import { loadConfig } from '../../server/config.ts';
import { createFormatError } from '../../server/graphql/format-error.ts';
import { operationLimitsRule } from '../../server/graphql/limits.ts';
import { introspectionPolicyPlugin, IntrospectionPolicy } from '../../server/graphql/introspection.ts';
import type { GraphQLContext } from '../../server/graphql/context.ts';
import { attachGraphQLWs } from '../../server/graphql/ws.ts';
import { createGraphQLHttpHandler } from '../../server/http/graphql-http.ts';

const typeDefs = /* GraphQL */ `
  input NoopInput { content: String! idempotencyKey: String }
  type Noop { id: ID! state: String! version: Int! }
  type Tick { id: ID! state: String! version: Int! progress: Float! }
  type Query { ok: Boolean! }
  type Mutation { noop(input: NoopInput!): Noop! }
  type Subscription { tick: Tick! }
`;

const pubsub = new PubSub();
const schema = makeExecutableSchema({
  typeDefs,
  resolvers: {
    Query: { ok: () => true },
    Mutation: { noop: () => ({ id: randomUUID(), state: 'PENDING', version: 1 }) },
    Subscription: {
      tick: {
        // Snapshot first, like taskUpdated: the client knows it is subscribed.
        subscribe: async function* () {
          yield { tick: { id: 'bench', state: 'ACTIVE', version: 0, progress: 0 } };
          yield* pubsub.asyncIterableIterator('tick') as unknown as AsyncIterable<{ tick: unknown }>;
        },
      },
    },
  },
});

// The production defaults: the same limits and masking as the real server, authentication off.
const { graphqlLimits } = loadConfig({ NODE_ENV: 'production' });
const limitsRule = operationLimitsRule(graphqlLimits);
const authenticator: Authenticator = { required: false, authenticate: async () => anonymousCaller() };
const formatError = createFormatError({ exposeInternalErrors: false, hideSchemaDetails: true, onInternalError: () => undefined });
const apollo = new ApolloServer<GraphQLContext>({
  schema,
  formatError,
  introspection: true,
  hideSchemaDetailsFromClientErrors: true,
  validationRules: [limitsRule],
  parseOptions: { maxTokens: graphqlLimits.maxTokens },
  csrfPrevention: true,
  allowBatchedHttpRequests: false,
  includeStacktraceInErrorResponses: false,
  stopOnTerminationSignals: false,
  plugins: [ApolloServerPluginLandingPageDisabled(), introspectionPolicyPlugin(IntrospectionPolicy.KEYS)],
});
await apollo.start();
const context = (caller: Caller) => ({ caller }) as GraphQLContext;
const handle = createGraphQLHttpHandler({ apollo, authenticator, context, maxBodyBytes: 1024 * 1024 });
const httpServer = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname !== '/graphql') {
    res.writeHead(404).end();
    return;
  }
  handle(req, res, url).catch(() => res.destroy());
});
attachGraphQLWs({
  httpServer,
  schema,
  authenticator,
  context,
  formatError,
  validationRules: [limitsRule],
  introspection: IntrospectionPolicy.KEYS,
  maxTokens: graphqlLimits.maxTokens,
  maxConnectionsPerKey: Number.MAX_SAFE_INTEGER,
  reauthenticateMs: 0,
  maxPayloadBytes: 64 * 1024,
  keepAliveMs: 12_000,
  connectionInitWaitTimeoutMs: 3000,
  allowedOrigins: [],
  maxSubscriptionsPerConnection: 100,
  subscriberLimits: { maxEvents: 1000, maxBytes: 4 * 1024 * 1024 },
});

const subscriber = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
await subscriber.subscribe(process.env.BENCH_CHANNEL ?? 'bench:fanout');
subscriber.on('message', (_channel, message) => {
  void pubsub.publish('tick', { tick: JSON.parse(message) });
});

httpServer.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'baseline listening', port: (httpServer.address() as AddressInfo).port }));
});
process.on('SIGTERM', () => process.exit(0));
