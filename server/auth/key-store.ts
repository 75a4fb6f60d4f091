/**
 * API keys kept in Redis (made by `npm run keys`) and the revocation list, which covers
 * API_KEYS entries too. Only hashes are stored.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import { scopeList, tenantName, type StoredKey } from './api-keys.ts';

const storedShape = z.object({
  id: z.string(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  tenant: tenantName,
  scopes: scopeList,
  label: z.string().optional(),
  createdAt: z.number(),
});

export interface KeyLookup {
  key: StoredKey | null;
  revoked: boolean;
}

export type KeyStore = ReturnType<typeof createKeyStore>;

export function createKeyStore({ redis, keys }: { redis: Redis; keys: RedisKeys }) {
  const parse = (json: string): StoredKey | null => {
    try {
      return { ...storedShape.parse(JSON.parse(json)), source: 'redis' };
    } catch {
      return null;
    }
  };

  /** The stored key with this id (if any) and whether the id is revoked: one round trip. */
  async function find(id: string): Promise<KeyLookup> {
    const replies = (await redis.pipeline().hget(keys.apiKeys(), id).hexists(keys.apiKeysRevoked(), id).exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const json = replies[0]?.[1] as string | null;
    return { key: json ? parse(json) : null, revoked: replies[1]?.[1] === 1 };
  }

  async function add(key: StoredKey): Promise<void> {
    const { source: _source, ...stored } = key;
    await redis.hset(keys.apiKeys(), key.id, JSON.stringify(stored));
  }

  /** Every stored key, with its revocation time when revoked. */
  async function list(): Promise<(StoredKey & { revokedAt: number | null })[]> {
    const [stored, revoked] = await Promise.all([redis.hgetall(keys.apiKeys()), redis.hgetall(keys.apiKeysRevoked())]);
    return Object.values(stored)
      .map(parse)
      .filter((key): key is StoredKey => key !== null)
      .map((key) => ({ ...key, revokedAt: revoked[key.id] ? Number(revoked[key.id]) : null }))
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Revoked ids, with when (ms). */
  async function revocations(): Promise<Record<string, number>> {
    const revoked = await redis.hgetall(keys.apiKeysRevoked());
    return Object.fromEntries(Object.entries(revoked).map(([id, at]) => [id, Number(at)]));
  }

  /** Marks the id revoked. False when it was already. */
  async function revoke(id: string): Promise<boolean> {
    return (await redis.hsetnx(keys.apiKeysRevoked(), id, String(Date.now()))) === 1;
  }

  return { find, add, list, revocations, revoke };
}
