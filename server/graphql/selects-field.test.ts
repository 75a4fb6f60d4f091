import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createFieldSelectionCheck } from './selects-field.ts';

const schema = buildSchema(`
  type Task { id: ID!, content: String!, state: String! }
  type Note { content: String! }
  type Query { task: Task, note: Note }
  type Subscription { tasksUpdated: Task, noteAdded: Note }
`);

describe('createFieldSelectionCheck', () => {
  const selectsTaskContent = createFieldSelectionCheck(schema, 'Task', 'content');

  it.each([
    ['directly', 'subscription { tasksUpdated { id content } }'],
    ['under an alias', 'subscription { tasksUpdated { id text: content } }'],
    ['in a fragment', 'subscription { tasksUpdated { ...F } } fragment F on Task { content }'],
    ['in an inline fragment', 'subscription { tasksUpdated { ... on Task { content } } }'],
  ])('sees Task.content selected %s', (_, query) => {
    expect(selectsTaskContent(parse(query))).toBe(true);
  });

  it.each([
    ['not at all', 'subscription { tasksUpdated { id state } }'],
    ['only on another type', 'subscription { noteAdded { content } }'],
  ])('sees Task.content selected %s', (_, query) => {
    expect(selectsTaskContent(parse(query))).toBe(false);
  });
});
