/**
 * The audit log of operator actions: a capped Redis stream every API server appends to, read
 * newest first. A record names the acting key's id, never the key.
 */
import type { Redis } from 'ioredis';
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import type { Caller } from '../auth/scopes.ts';

export interface AuditRecord {
  id: string;
  at: number;
  actor: string;
  tenant: string;
  action: string;
  target: string | null;
  detail: string | null;
}

export interface AuditPage {
  records: AuditRecord[];
  hasNextPage: boolean;
  endCursor: string | null;
}

export type AuditService = ReturnType<typeof createAuditService>;

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

export function createAuditService({ redis, keys, maxRecords }: { redis: Redis; keys: RedisKeys; maxRecords: number }) {
  async function record(caller: Caller, action: string, target: string | null, detail: string | null): Promise<void> {
    const fields = ['actor', caller.actor, 'tenant', caller.tenant, 'action', action];
    if (target !== null) fields.push('target', target);
    if (detail !== null) fields.push('detail', detail);
    await redis.xadd(keys.auditLog(), 'MAXLEN', '~', String(maxRecords), '*', ...fields);
  }

  async function list(first: number, after: string | null): Promise<AuditPage> {
    if (after !== null && !STREAM_ID.test(after)) throw new AppError(ErrorCode.BAD_USER_INPUT, 'after is not a cursor from this listing');
    let entries;
    try {
      entries = await redis.xrevrange(keys.auditLog(), after === null ? '+' : `(${after}`, '-', 'COUNT', first + 1);
    } catch (cause) {
      throw new AppError(ErrorCode.UNAVAILABLE, 'the audit log is unavailable; try again', { retryable: true, cause });
    }
    const records = entries.slice(0, first).map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      return {
        id,
        at: Number(id.split('-')[0]),
        actor: fields.actor ?? '',
        tenant: fields.tenant ?? '',
        action: fields.action ?? '',
        target: fields.target ?? null,
        detail: fields.detail ?? null,
      };
    });
    return { records, hasNextPage: entries.length > first, endCursor: records.length > 0 ? records[records.length - 1]!.id : null };
  }

  return { record, list };
}
