import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/env.ts';
import { anonymousCaller, Scope, type Caller } from '../auth/scopes.ts';
import { loadConfig } from '../config.ts';
import { introspectionRefusal, IntrospectionPolicy, mayIntrospect, readsSchema } from './introspection.ts';

const reader: Caller = { tenant: 'acme', actor: 'k_0123456789abcdef', scopes: new Set([Scope.TASKS_READ]) };
const anonymous = anonymousCaller();
const INTROSPECT = parse('{ __schema { queryType { name } } }');

describe('who may introspect', () => {
  it('on: everyone; keys: a key of any scope, not the anonymous caller (who holds every scope); off: no one', () => {
    expect([mayIntrospect('on', anonymous), mayIntrospect('on', reader)]).toEqual([true, true]);
    expect([mayIntrospect('keys', anonymous), mayIntrospect('keys', reader)]).toEqual([false, true]);
    expect([mayIntrospect('off', anonymous), mayIntrospect('off', reader)]).toEqual([false, false]);
  });

  it('finds __schema and __type anywhere in a document, fragments included, and not __typename', () => {
    expect(readsSchema(INTROSPECT)).toBe(true);
    expect(readsSchema(parse('{ tasks { totalCount } t: __type(name: "Task") { name } }'))).toBe(true);
    expect(readsSchema(parse('query { ...F } fragment F on Query { __schema { types { name } } }'))).toBe(true);
    expect(readsSchema(parse('{ __typename tasks { nodes { __typename id } } }'))).toBe(false);
    expect(readsSchema(parse('subscription { taskUpdated(id: "x") { id } }'))).toBe(false);
  });

  it('refuses with UNAUTHENTICATED under keys (saying how to get a key) and GRAPHQL_VALIDATION_FAILED under off', () => {
    const withKeys = introspectionRefusal(INTROSPECT, 'keys', anonymous, true);
    expect(withKeys?.extensions).toEqual({ code: 'UNAUTHENTICATED', http: { status: 401 } });
    expect(withKeys?.message).toMatch(/needs an API key: send Authorization: Bearer <key>.*npm run keys/);
    const withoutKeys = introspectionRefusal(INTROSPECT, 'keys', anonymous, false);
    expect(withoutKeys?.message).toMatch(/none configured: make one with `npm run keys` and set AUTH_REQUIRED=true .*GRAPHQL_INTROSPECTION=on/);
    const off = introspectionRefusal(INTROSPECT, 'off', reader, true);
    expect(off?.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } });
    expect(introspectionRefusal(INTROSPECT, 'keys', reader, true)).toBeNull();
    expect(introspectionRefusal(parse('{ __typename }'), 'off', anonymous, false)).toBeNull();
  });
});

describe('GRAPHQL_INTROSPECTION', () => {
  it('defaults to on in development and keys otherwise, and can be set either way', () => {
    expect(loadConfig({}).introspection).toBe(IntrospectionPolicy.ON);
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe(IntrospectionPolicy.KEYS);
    expect(loadConfig({ NODE_ENV: 'test' }).introspection).toBe(IntrospectionPolicy.KEYS);
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'on' }).introspection).toBe(IntrospectionPolicy.ON);
    expect(loadConfig({ GRAPHQL_INTROSPECTION: 'off' }).introspection).toBe(IntrospectionPolicy.OFF);
  });

  it('names the values it takes when given another', () => {
    expect(() => loadConfig({ GRAPHQL_INTROSPECTION: 'yes' })).toThrow(ConfigError);
    expect(() => loadConfig({ GRAPHQL_INTROSPECTION: 'yes' })).toThrow(/GRAPHQL_INTROSPECTION: .*"on"\|"keys"\|"off"/);
  });
});
