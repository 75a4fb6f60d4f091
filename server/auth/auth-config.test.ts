import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/env.ts';
import { loadConfig } from '../config.ts';
import { isLoopbackHostHeader } from '../http/origin.ts';
import { bearerKey, hashKey, keyIdOf, parseApiKeys, sameHash } from './api-keys.ts';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
    throw error;
  }
  return '';
};

describe('API_KEYS and the bind rule', () => {
  it('hashes keys at load and keeps nothing of the key but its hash', () => {
    const [entry] = parseApiKeys(JSON.stringify([{ key: 'a-long-enough-key-1', tenant: 'acme', scopes: ['tasks:read', 'tasks:read'] }]));
    expect(entry).toEqual({ id: keyIdOf(hashKey('a-long-enough-key-1')), hash: hashKey('a-long-enough-key-1'), tenant: 'acme', scopes: ['tasks:read'], createdAt: 0, source: 'env' });
    expect(JSON.stringify(entry)).not.toContain('a-long-enough-key-1');
    expect(sameHash(entry!.hash, hashKey('a-long-enough-key-1'))).toBe(true);
    expect(sameHash(entry!.hash, hashKey('a-long-enough-key-2'))).toBe(false);
  });

  it('names every problem in API_KEYS without echoing a key', () => {
    const secret = 'short-secret';
    const problems = problemsOf({
      API_KEYS: JSON.stringify([
        { key: secret, tenant: 'acme', scopes: ['tasks:read'] },
        { key: 'a-long-enough-key-1', tenant: 'bad tenant', scopes: ['root'] },
      ]),
    });
    expect(problems).toMatch(/0\.key key must be at least 16/);
    expect(problems).toMatch(/1\.tenant/);
    expect(problems).toMatch(/1\.scopes\.0/);
    expect(problems).not.toContain(secret);
    expect(problemsOf({ API_KEYS: '{not json' })).toMatch(/not valid JSON/);
    expect(problemsOf({ API_KEYS: JSON.stringify([{ key: 'same-key-0123456789', tenant: 'a', scopes: ['admin'] }, { key: 'same-key-0123456789', tenant: 'b', scopes: ['admin'] }]) })).toMatch(/listed twice/);
  });

  it('refuses a non-loopback bind without keys unless anonymous access is explicitly allowed', () => {
    const production = { NODE_ENV: 'production', HOST: '0.0.0.0' };
    expect(problemsOf(production)).toMatch(/ALLOW_ANONYMOUS/);
    expect(problemsOf({ ...production, ALLOW_ANONYMOUS: 'true' })).toBe('');
    expect(problemsOf({ ...production, API_KEYS: JSON.stringify([{ key: 'a-long-enough-key-1', tenant: 'acme', scopes: ['admin'] }]) })).toBe('');
    expect(problemsOf({ ...production, AUTH_REQUIRED: 'true' })).toBe('');
    // Development mode (the default) shows the schema and internal errors: never off loopback.
    expect(problemsOf({ HOST: '0.0.0.0', AUTH_REQUIRED: 'true' })).toMatch(/NODE_ENV: development/);
    expect(problemsOf({ NODE_ENV: 'test', HOST: '0.0.0.0', AUTH_REQUIRED: 'true' })).toBe('');
    expect(loadConfig({}).auth.required).toBe(false);
    expect(loadConfig({ HOST: '::1' }).auth.required).toBe(false);
  });

  it('answers only requests addressed to localhost while authentication is off', () => {
    expect(loadConfig({}).auth.loopbackOnly).toBe(true);
    expect(loadConfig({ AUTH_REQUIRED: 'true' }).auth.loopbackOnly).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', HOST: '0.0.0.0', ALLOW_ANONYMOUS: 'true' }).auth.loopbackOnly).toBe(false);
    for (const host of ['127.0.0.1:8000', 'localhost:8000', '[::1]:8000', 'app.localhost', undefined]) expect(isLoopbackHostHeader(host), String(host)).toBe(true);
    for (const host of ['evil.example:8000', '127.0.0.1.evil.example', '10.0.0.5:8000', '[::2]:80']) expect(isLoopbackHostHeader(host), host).toBe(false);
  });

  it('reads the bearer key and nothing else', () => {
    expect(bearerKey('Bearer abc')).toBe('abc');
    expect(bearerKey('bearer   abc ')).toBe('abc');
    expect(bearerKey('Basic abc')).toBeNull();
    expect(bearerKey('Bearer a b')).toBeNull();
    expect(bearerKey(undefined)).toBeNull();
  });

  it('reads SUBMIT_RATE_LIMIT as a limit or off', () => {
    expect(loadConfig({}).auth.submitRateLimit).toEqual({ capacity: 100, windowMs: 10_000 });
    expect(loadConfig({ SUBMIT_RATE_LIMIT: 'off' }).auth.submitRateLimit).toBeNull();
    expect(problemsOf({ SUBMIT_RATE_LIMIT: 'lots' })).toMatch(/SUBMIT_RATE_LIMIT/);
  });
});
