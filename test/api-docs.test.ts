/**
 * docs/api.md against the code: the operation table lists every root field of the schema, each
 * once, with exactly the arguments the SDL gives it; the scope table gives every root field the
 * scope `server/graphql/authorize.ts` actually demands; the audited actions are the mutations
 * that leave an audit record. Scopes and audit are read from behaviour (each guarded resolver
 * called with a caller that has no scope), not from the table literal.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, validate, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { isAppError, ErrorCode } from '../schema/src/errors.ts';
import { SCOPES, type Caller } from '../server/auth/scopes.ts';
import type { Resolvers } from '../server/graphql/__generated__/resolvers.ts';
import { withAuthorization } from '../server/graphql/authorize.ts';
import type { GraphQLContext } from '../server/graphql/context.ts';
import { createSchema } from '../server/graphql/schema.ts';
import type { AuditService } from '../server/services/audit-service.ts';
import { testLogger } from './support/silent-logger.ts';

const API = readFileSync(join(import.meta.dirname, '..', 'docs', 'api.md'), 'utf8');
const ROOTS = ['Query', 'Mutation', 'Subscription'] as const;
const schema = createSchema();
const rootType = (root: (typeof ROOTS)[number]) => schema.getType(root) as GraphQLObjectType;
/** Every root field's arguments, by field name (root field names are unique across the three roots here). */
const rootFields = new Map(ROOTS.flatMap((root) => Object.values(rootType(root).getFields()).map((field) => [field.name, field.args.map((arg) => arg.name)] as const)));

/** The rows of the Markdown table whose header line is `header`, as arrays of cells. */
function tableAfter(markdown: string, header: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(header);
  if (start === -1) throw new Error(`docs/api.md has no table with the header ${header}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(' | ').map((cell) => cell.trim()));
  }
  return rows;
}

/** `name(a, b: {x, y})` -> { name, args: ['a', 'b'] }; without parentheses, args is null. */
function parseOperation(code: string): { name: string; args: string[] | null } {
  const open = code.indexOf('(');
  if (open === -1) return { name: code, args: null };
  const inner = code.slice(open + 1, code.lastIndexOf(')'));
  const args: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of inner) {
    if (char === '{' || char === '[') depth += 1;
    if (char === '}' || char === ']') depth -= 1;
    if (char === ',' && depth === 0) {
      args.push(current);
      current = '';
    } else current += char;
  }
  args.push(current);
  return { name: code.slice(0, open), args: args.map((arg) => arg.split(':')[0]!.trim()) };
}

/** The operations the first column of the operation table names (`Type.field` rows are fields, not operations). */
function documentedOperations() {
  return tableAfter(API, '| operation | what it does |').flatMap(([first]) =>
    [...first!.matchAll(/`([^`]+)`/g)].map((match) => match[1]!).filter((code) => !/^[A-Z]\w*\./.test(code)).map(parseOperation),
  );
}

/** scope cell -> the operations the scope table lists for it; 'any caller' is authorize.ts's 'caller'. */
function documentedScopes(): Map<string, string> {
  const byField = new Map<string, string>();
  for (const [scope, , operations] of tableAfter(API, '| scope | lets the key | operations |')) {
    const requirement = scope === 'any caller' ? 'caller' : scope!.replace(/`/g, '');
    for (const [, field] of operations!.matchAll(/`(\w+)`/g)) {
      if (byField.has(field!)) throw new Error(`the scope table lists ${field} twice`);
      byField.set(field!, requirement);
    }
  }
  return byField;
}

/** The mutations named in the paragraph that says which actions leave an audit record. */
function documentedAuditedMutations(): string[] {
  const paragraph = API.split('\n\n').find((text) => text.includes('leaves an audit record'));
  if (!paragraph) throw new Error('docs/api.md does not say which actions leave an audit record');
  const mutations = new Set(Object.keys(rootType('Mutation').getFields()));
  return [...paragraph.matchAll(/`(\w+)`/g)].map((match) => match[1]!).filter((name) => mutations.has(name));
}

/** Every root field with a resolver that answers 'ran', wrapped by withAuthorization, and the audit records it writes. */
function guardedResolvers() {
  const audited: string[] = [];
  const fake = (root: (typeof ROOTS)[number]) =>
    Object.fromEntries(
      Object.keys(rootType(root).getFields()).map((name) => [name, root === 'Subscription' ? { subscribe: () => 'ran' } : () => 'ran']),
    );
  const audit = { record: async (_caller: Caller, action: string) => void audited.push(action) } as unknown as AuditService;
  const resolvers = withAuthorization({ Query: fake('Query'), Mutation: fake('Mutation'), Subscription: fake('Subscription') } as Resolvers, () => audit, testLogger('api-docs'));
  /** Runs root field `name` as `caller`: what it returned, or the error it threw. */
  async function run(root: (typeof ROOTS)[number], name: string, caller: Caller): Promise<unknown> {
    const field = (resolvers[root] as Record<string, unknown>)[name];
    const call = (typeof field === 'function' ? field : (field as { subscribe: unknown }).subscribe) as (...args: unknown[]) => unknown;
    const context = { caller } as GraphQLContext;
    try {
      return await call({}, {}, context, {});
    } catch (error) {
      return error;
    }
  }
  return { run, audited };
}

const noScopes: Caller = { tenant: 'acme', actor: 'k_0000000000000000', scopes: new Set() };
const allScopes: Caller = { ...noScopes, scopes: new Set(SCOPES) };

describe('docs/api.md operation table', () => {
  it('lists every root field of the schema, once, and nothing else', () => {
    const names = documentedOperations().map((operation) => operation.name);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
    expect([...names].sort()).toEqual([...rootFields.keys()].sort());
  });

  it('writes each operation with exactly the arguments the schema gives it', () => {
    const wrong = documentedOperations().flatMap(({ name, args }) => {
      const actual = rootFields.get(name) ?? [];
      const shown = args ?? [];
      return [...shown].sort().join() === [...actual].sort().join() ? [] : [`${name}(${shown.join(', ')}): the schema has (${actual.join(', ')})`];
    });
    expect(wrong).toEqual([]);
  });
});

describe('docs/api.md scope table', () => {
  it('gives every root field the scope authorize.ts demands', async () => {
    const { run } = guardedResolvers();
    const actual = new Map<string, string>();
    for (const root of ROOTS) {
      for (const name of Object.keys(rootType(root).getFields())) {
        const outcome = await run(root, name, noScopes);
        if (outcome === 'ran') actual.set(name, 'caller');
        else if (isAppError(outcome) && outcome.code === ErrorCode.FORBIDDEN) actual.set(name, String(outcome.details?.scope));
        else throw new Error(`${root}.${name} answered neither 'ran' nor FORBIDDEN: ${String(outcome)}`);
      }
    }
    expect(Object.fromEntries([...documentedScopes()].sort())).toEqual(Object.fromEntries([...actual].sort()));
  });

  it('names exactly the mutations that leave an audit record', async () => {
    const { run, audited } = guardedResolvers();
    for (const name of Object.keys(rootType('Mutation').getFields())) expect(await run('Mutation', name, allScopes)).toBe('ran');
    expect([...documentedAuditedMutations()].sort()).toEqual([...audited].sort());
  });

  it('reads the tables it checks (the checks above are not vacuous)', () => {
    expect(rootFields.size).toBeGreaterThan(20);
    expect(documentedOperations()).toHaveLength(rootFields.size);
    expect(documentedScopes().size).toBe(rootFields.size);
    expect(documentedAuditedMutations()).toContain('setBudget');
  });
});

describe('the fair dispatch examples', () => {
  it('are valid against the schema (docs/api.md and docs/dispatch.md)', () => {
    const section = (markdown: string, heading: string) => markdown.slice(markdown.indexOf(heading), markdown.indexOf('\n## ', markdown.indexOf(heading) + heading.length));
    const blocks = [section(API, '## Fair dispatch'), section(readFileSync(join(import.meta.dirname, '..', 'docs', 'dispatch.md'), 'utf8'), '## The API')].flatMap((text) =>
      [...text.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!),
    );
    expect(blocks).toHaveLength(2);
    for (const block of blocks) expect(validate(schema, parse(block)).map((error) => error.message)).toEqual([]);
  });
});
