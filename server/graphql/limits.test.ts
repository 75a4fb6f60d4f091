import { parse, specifiedRules, validate, buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { operationLimitsRule, type GraphQLLimits } from './limits.ts';

const schema = buildSchema(`
  type Task { id: ID! sub: Task history(first: Int): [Task!]! }
  type Query { task: Task tasks(first: Int): [Task!]! }
  type Mutation { submitTask(content: String!): Task! }
`);
const LIMITS: GraphQLLimits = { maxDepth: 5, maxAliases: 3, maxDirectives: 2, maxTokens: 1000, maxCost: 1000, maxSubmits: 4 };
const problems = (query: string) => validate(schema, parse(query), [...specifiedRules, operationLimitsRule(LIMITS)]).map((error) => error.message);

describe('operation limits', () => {
  it('lets ordinary operations through', () => {
    expect(problems('{ task { id sub { id } } tasks(first: 10) { id } }')).toEqual([]);
    expect(problems('mutation { a: submitTask(content: "x") { id } b: submitTask(content: "y") { id } }')).toEqual([]);
  });

  it('counts depth through fragments and inline fragments', () => {
    expect(problems('{ task { sub { sub { sub { sub { id } } } } } }')).toEqual(['query is 6 levels deep; the limit is 5']);
    expect(problems('{ task { ...F } } fragment F on Task { sub { sub { sub { sub { id } } } } }')[0]).toMatch(/6 levels deep/);
    expect(problems('{ task { ... on Task { sub { sub { sub { sub { id } } } } } } }')[0]).toMatch(/6 levels deep/);
  });

  it('counts aliases and directives', () => {
    expect(problems('{ a: task { id } b: task { id } c: task { id } d: task { id } }')).toEqual(['query uses 4 aliases; the limit is 3']);
    expect(problems('{ a: __typename b: __typename c: __typename }')).toEqual([]);
    expect(problems('{ a: __typename b: __typename c: __typename d: __typename }')).toEqual(['query uses 4 aliases; the limit is 3']);
    expect(problems('{ task { a: __typename b: __typename } x: task { c: __typename d: __typename } }')).toEqual(['query uses 5 aliases; the limit is 3']);
    // A fragment's aliases count at every spread.
    expect(problems('{ task { ...A } x: task { ...A } } fragment A on Task { a: id b: id }')).toEqual(['query uses 5 aliases; the limit is 3']);
    expect(problems('{ task @skip(if: false) { id @include(if: true) sub @skip(if: false) { id } } }')).toEqual(['query uses 3 directives; the limit is 2']);
  });

  it('makes submitTask expensive and multiplies lists by first', () => {
    expect(problems('mutation { a: submitTask(content: "1") { id } b: submitTask(content: "2") { id } c: submitTask(content: "3") { id } ...S } fragment S on Mutation { submitTask(content: "5") { id } x: submitTask(content: "6") { id } }')).toContain(
      'an operation may submit at most 4 tasks; this one submits 5',
    );
    expect(problems('{ tasks(first: 100) { history(first: 100) { id } } }')).toEqual(['query cost 10101 exceeds the limit of 1000']);
    // A variable counts as the largest page (100): its value is not known before execution.
    expect(problems('query ($n: Int) { tasks(first: $n) { history(first: $n) { id } } }')).toEqual(['query cost 10101 exceeds the limit of 1000']);
    expect(problems('query ($n: Int) { tasks(first: $n) { id } }')).toEqual([]);
  });

  it('accepts exactly maxSubmits submits, each selecting its whole record', () => {
    const submits = (n: number) =>
      `mutation { ${Array.from({ length: n }, (_, i) => `s${i}: submitTask(content: "${i}") { id sub { id } history(first: 10) { id } }`).join(' ')} }`;
    const wide: GraphQLLimits = { ...LIMITS, maxAliases: 100 };
    const check = (query: string) => validate(schema, parse(query), [...specifiedRules, operationLimitsRule(wide)]).map((error) => error.message);
    expect(check(submits(4))).toEqual([]);
    expect(check(submits(5))).toEqual(['an operation may submit at most 4 tasks; this one submits 5']);
  });

  it('measures each fragment once however often it is spread, so nested spreads stay linear', () => {
    // 40 fragments each spreading the next twice: 2^39 selections from 300 tokens, which a walk
    // of every spread would take hours to count.
    const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i} on Task { ${i < 39 ? `...F${i + 1} ...F${i + 1}` : 'id'} }`).join(' ');
    expect(problems(`{ task { ...F0 } } ${fragments}`)).toEqual([`query cost ${1 + 2 ** 39} exceeds the limit of 1000`]);
  });

  it('survives fragment cycles (GraphQL reports them itself)', () => {
    const messages = problems('{ task { ...A } } fragment A on Task { sub { ...B } } fragment B on Task { sub { ...A } }');
    expect(messages.some((message) => /Cannot spread fragment/.test(message))).toBe(true);
  });
});
