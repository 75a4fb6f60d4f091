import { GraphQLObjectType, GraphQLSchema, GraphQLString, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { closableIterator, createAsyncQueue } from '../services/async-queue.ts';
import { createSharedSubscribe } from './shared-execution.ts';

/** A schema whose subscription hands every subscriber the events of one shared queue set. */
function fixture() {
  let resolved = 0;
  const feeds = new Set<ReturnType<typeof createAsyncQueue<{ name: string }>>>();
  let closed = 0;
  const Item = new GraphQLObjectType({
    name: 'Item',
    fields: {
      name: {
        type: GraphQLString,
        resolve: (item: { name: string }) => {
          resolved += 1;
          return item.name;
        },
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        items: {
          type: Item,
          subscribe: () => {
            const queue = createAsyncQueue<{ name: string }>();
            feeds.add(queue);
            async function* run() {
              yield* queue;
            }
            return closableIterator(run(), () => {
              closed += 1;
              feeds.delete(queue);
              queue.close();
            });
          },
          resolve: (item: unknown) => item,
        },
      },
    }),
  });
  return {
    schema,
    publish: (item: { name: string }) => feeds.forEach((feed) => feed.push(item)),
    resolved: () => resolved,
    closed: () => closed,
  };
}

describe('createSharedSubscribe', () => {
  it('executes an event once per distinct operation, whatever the number of subscribers', async () => {
    const { schema, publish, resolved } = fixture();
    const shared = createSharedSubscribe();
    // One parsed document for all: the operation is told apart by its context, not its document.
    const document = parse('subscription { items { name } }');
    const open = async (key: string | null) => {
      const contextValue = {};
      if (key) shared.register(contextValue, key);
      return (await shared.subscribe({ schema, document, contextValue })) as AsyncGenerator<{ data?: unknown }>;
    };
    const same = await Promise.all([open('a'), open('a'), open('a')]);
    const other = await open('b');
    const unregistered = await open(null);
    const pulls = [...same, other, unregistered].map((subscription) => subscription.next());
    const event = { name: 'one' };
    publish(event);
    const results = await Promise.all(pulls);
    expect(results.map((result) => result.value)).toEqual(Array(5).fill({ data: { items: { name: 'one' } } }));
    // One execution for the three 'a' subscribers, one for 'b', one for the unshared one.
    expect(resolved()).toBe(3);
    expect(results[0]!.value).toBe(results[1]!.value);
  });

  it('reaches the source at once when a subscriber leaves while waiting', async () => {
    const { schema, closed } = fixture();
    const shared = createSharedSubscribe();
    const subscription = (await shared.subscribe({ schema, document: parse('subscription { items { name } }') })) as AsyncGenerator<unknown>;
    const pending = subscription.next();
    await subscription.return(undefined);
    expect(closed()).toBe(1);
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it('answers a field whose resolver gives no stream with an error, instead of throwing', async () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
      subscription: new GraphQLObjectType({ name: 'Subscription', fields: { broken: { type: GraphQLString, subscribe: () => undefined } } }),
    });
    const result = await createSharedSubscribe().subscribe({ schema, document: parse('subscription { broken }') });
    expect(result).toMatchObject({ errors: [expect.objectContaining({ message: 'internal error' })] });
  });

  it('answers an operation that cannot subscribe with its errors', async () => {
    const { schema } = fixture();
    const result = await createSharedSubscribe().subscribe({ schema, document: parse('subscription { items { name } }'), variableValues: { x: 1 }, operationName: 'Missing' });
    expect(result).toHaveProperty('errors');
  });
});
