/** Every key, name and value in a Redis, decoded to text: for checks that a secret is nowhere in it. */
import type { Redis } from 'ioredis';

export async function keysContaining(redis: Redis, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const key of await redis.keys('*')) {
    const type = await redis.type(key);
    let text = key;
    if (type === 'string') text += (await redis.get(key)) ?? '';
    else if (type === 'hash') text += JSON.stringify(await redis.hgetall(key));
    else if (type === 'list') text += JSON.stringify(await redis.lrange(key, 0, -1));
    else if (type === 'set') text += JSON.stringify(await redis.smembers(key));
    else if (type === 'zset') text += JSON.stringify(await redis.zrange(key, 0, -1));
    else if (type === 'stream') text += JSON.stringify(await redis.xrange(key, '-', '+'));
    else text += `unreadable type ${type}`;
    if (text.includes(needle)) found.push(key);
  }
  return found;
}
