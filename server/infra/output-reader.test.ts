import { describe, expect, it } from 'vitest';
import { useSystem } from '../../test/support/fixtures.ts';
import { createOutputReader } from './output-reader.ts';

const system = useSystem({ server: false });

describe('output reader: a task\'s state', () => {
  it('reads a known state, null for a task that is gone, and rejects a state it does not know', async () => {
    const { keys } = system;
    const redis = system.redis.client;
    const reader = createOutputReader(redis, keys);
    await redis.hset(keys.task('t-known'), 'state', 'ACTIVE');
    await redis.hset(keys.task('t-unknown'), 'state', 'PAUSED');

    expect(await reader.state('t-known')).toBe('ACTIVE');
    expect(await reader.state('t-missing')).toBeNull();
    // Not null: a feed would take that for a deleted task and end a running task's output.
    await expect(reader.state('t-unknown')).rejects.toThrow(/state this server does not know: "PAUSED"/);
  });
});
