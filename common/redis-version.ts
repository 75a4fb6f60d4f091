/**
 * The oldest Redis the service runs on, checked by every process that talks to Redis before it
 * does any work: the API server, the workers, `npm start`'s supervisor and `npm run keys`.
 *
 * 7.0, for ZINTERCARD (a filtered task count, server/infra/task-repository.ts); the task
 * scripts also use 6.2's XTRIM MINID and ZMSCORE. An older Redis would accept tasks and then
 * fail some reads and writes with "unknown command": refusing at start says why at once.
 */
import type { Redis } from 'ioredis';
import { RefusedToStartError } from './process.ts';

/** The oldest Redis accepted, as major.minor. */
export const MIN_REDIS_VERSION = '7.0';

/** A Redis known to be older than MIN_REDIS_VERSION. */
export class RedisVersionError extends RefusedToStartError {
  constructor(readonly found: string) {
    super(`Redis ${found} is too old: AsyncTaskFlow needs Redis ${MIN_REDIS_VERSION} or newer (it uses ZINTERCARD); upgrade Redis or point REDIS_URL at a newer one`);
    this.name = 'RedisVersionError';
  }
}

/** `redis_version` out of an `INFO` reply, or null when the reply has none. */
export function redisVersionFromInfo(info: string): string | null {
  return /^redis_version:([^\r\n]+)/m.exec(info)?.[1]?.trim() || null;
}

/**
 * Whether `version` (dotted numbers, as `redis_version` gives it) is at least
 * MIN_REDIS_VERSION, comparing each part as a number (7.10 is newer than 7.9). Null when it
 * does not start with a number: nothing is known about it.
 */
export function isSupportedRedisVersion(version: string): boolean | null {
  const parts = (text: string) => text.split('.').map((part) => Number.parseInt(part, 10));
  const found = parts(version);
  if (!Number.isInteger(found[0])) return null;
  const minimum = parts(MIN_REDIS_VERSION);
  for (let i = 0; i < minimum.length; i += 1) {
    const part = Number.isInteger(found[i]) ? found[i]! : 0;
    if (part !== minimum[i]) return part > minimum[i]!;
  }
  return true;
}

/**
 * Reads the version of the Redis `redis` is connected to (with Sentinel, the master's) and
 * throws RedisVersionError when it is older than MIN_REDIS_VERSION. A version that cannot be
 * read (INFO refused by an ACL or a managed Redis, no reply in time, a value that is not a
 * version) is not known to be too old: `onUnknown` gets a warning and the process goes on.
 * Returns the version read, or null.
 */
export async function requireRedisVersion(redis: Redis, onUnknown: (warning: string) => void): Promise<string | null> {
  let version: string | null;
  try {
    version = redisVersionFromInfo(await redis.info('server'));
  } catch (error) {
    onUnknown(`could not read the Redis version (${(error as Error).message}): AsyncTaskFlow needs Redis ${MIN_REDIS_VERSION} or newer`);
    return null;
  }
  const supported = version === null ? null : isSupportedRedisVersion(version);
  if (supported === false) throw new RedisVersionError(version!);
  if (supported === null) onUnknown(`Redis did not report a version AsyncTaskFlow can read (${version ?? 'none'}): it needs Redis ${MIN_REDIS_VERSION} or newer`);
  return version;
}
