/**
 * API keys: how they are made, hashed and checked. Only a key's SHA-256 is ever kept; keys
 * are 256-bit random strings (or operator-chosen ones of at least MIN_KEY_LENGTH), so a fast
 * hash is enough and a salt adds nothing. A key's id is derived from its hash, so a lookup
 * needs no scan and the id can be shown, logged and revoked without revealing the key.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { SCOPES, TENANT_PATTERN, type Scope } from './scopes.ts';

export const MIN_KEY_LENGTH = 16;
const KEY_PREFIX = 'atf_';

export interface StoredKey {
  id: string;
  /** Hex SHA-256 of the key. */
  hash: string;
  tenant: string;
  scopes: Scope[];
  label?: string;
  createdAt: number;
  /** Where the key is defined: API_KEYS (env) or `npm run keys` (redis). */
  source: 'env' | 'redis';
}

export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** `k_` and the first 16 hex digits of the key's hash. */
export const keyIdOf = (hash: string): string => `k_${hash.slice(0, 16)}`;

/** A new random key, shown once to the operator who makes it. */
export const generateKey = (): string => KEY_PREFIX + randomBytes(32).toString('base64url');

/** Compares two hex digests in constant time. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

export const scopeList = z.array(z.enum(SCOPES as [Scope, ...Scope[]])).min(1);
export const tenantName = z.string().regex(TENANT_PATTERN, 'tenant must be 1-64 of A-Z a-z 0-9 _ . -');

const apiKeysShape = z.array(
  z.object({ key: z.string().min(MIN_KEY_LENGTH, `key must be at least ${MIN_KEY_LENGTH} characters`), tenant: tenantName, scopes: scopeList, label: z.string().max(100).optional() }).strict(),
);

/**
 * Parses API_KEYS (a JSON array of {key, tenant, scopes}) into hashed entries; the keys
 * themselves are dropped here. Throws an Error whose message names every problem and never
 * echoes a key.
 */
export function parseApiKeys(json: string): StoredKey[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('API_KEYS is not valid JSON (expected [{"key": "...", "tenant": "...", "scopes": ["tasks:write", "tasks:read"]}])');
  }
  const parsed = apiKeysShape.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`API_KEYS: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`).join('; ')}`);
  }
  const byId = new Map<string, StoredKey>();
  for (const entry of parsed.data) {
    const hash = hashKey(entry.key);
    const id = keyIdOf(hash);
    if (byId.has(id)) throw new Error(`API_KEYS: the same key is listed twice (id ${id})`);
    byId.set(id, { id, hash, tenant: entry.tenant, scopes: [...new Set(entry.scopes)], ...(entry.label ? { label: entry.label } : {}), createdAt: 0, source: 'env' });
  }
  return [...byId.values()];
}

/** The key in an `Authorization: Bearer <key>` value, or null. */
export function bearerKey(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}
