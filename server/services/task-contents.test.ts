import { describe, expect, it } from 'vitest';
import { createTaskContents } from './task-contents.ts';

/** A repository whose `getContents` answers from `stored` and records each round trip's ids. */
function fakeRepository(stored: Record<string, string>) {
  const roundTrips: string[][] = [];
  let failNext: Error | null = null;
  return {
    roundTrips,
    failOnce: (error: Error) => (failNext = error),
    async getContents(ids: readonly string[]) {
      roundTrips.push([...ids]);
      if (failNext) {
        const error = failNext;
        failNext = null;
        throw error;
      }
      return ids.map((id) => stored[id] ?? null);
    },
  };
}

const STORED = { a: 'content of a', b: 'content of b', c: 'content of c' };

describe('createTaskContents', () => {
  it('reads the contents asked for in one tick in one round trip, each id once', async () => {
    const repository = fakeRepository(STORED);
    const contents = createTaskContents({ repository, maxBytes: 1024 * 1024 });
    contents.prefetch('a');
    contents.prefetch('b');
    contents.prefetch('a');
    expect(await Promise.all([contents.load('a'), contents.load('b'), contents.load('c')])).toEqual(['content of a', 'content of b', 'content of c']);
    expect(repository.roundTrips).toEqual([['a', 'b', 'c']]);
  });

  it('keeps what it read: later loads and prefetches of the same task cost no round trip', async () => {
    const repository = fakeRepository(STORED);
    const contents = createTaskContents({ repository, maxBytes: 1024 * 1024 });
    await contents.load('a');
    contents.prefetch('a');
    expect(await contents.load('a')).toBe('content of a');
    expect(repository.roundTrips).toEqual([['a']]);
  });

  it('answers null for a task that is gone, and does not keep that answer', async () => {
    const repository = fakeRepository({});
    const contents = createTaskContents({ repository, maxBytes: 1024 * 1024 });
    expect(await contents.load('gone')).toBeNull();
    expect(await contents.load('gone')).toBeNull();
    expect(repository.roundTrips).toEqual([['gone'], ['gone']]);
  });

  it('rejects every load of a failed round trip, and reads again on the next', async () => {
    const repository = fakeRepository(STORED);
    const contents = createTaskContents({ repository, maxBytes: 1024 * 1024 });
    repository.failOnce(new Error('connection lost'));
    contents.prefetch('a');
    await expect(Promise.all([contents.load('a'), contents.load('b')])).rejects.toThrow('connection lost');
    expect(await contents.load('a')).toBe('content of a');
    expect(repository.roundTrips).toEqual([['a', 'b'], ['a']]);
  });

  it('keeps at most maxBytes (two bytes a character and some bookkeeping each), least recently used out first', async () => {
    const repository = fakeRepository(STORED);
    // Room for one content of 12 characters (24 bytes + 128), not two.
    const contents = createTaskContents({ repository, maxBytes: 200 });
    await contents.load('a');
    await contents.load('b');
    await contents.load('b');
    await contents.load('a');
    expect(repository.roundTrips).toEqual([['a'], ['b'], ['a']]);
  });

  it('with maxBytes 0 keeps nothing but still batches', async () => {
    const repository = fakeRepository(STORED);
    const contents = createTaskContents({ repository, maxBytes: 0 });
    contents.remember('c', 'content of c');
    expect(await Promise.all([contents.load('a'), contents.load('b'), contents.load('c')])).toEqual(['content of a', 'content of b', 'content of c']);
    await contents.load('a');
    expect(repository.roundTrips).toEqual([['a', 'b', 'c'], ['a']]);
  });

  it('splits a larger burst into round trips of at most maxBatch ids', async () => {
    const repository = fakeRepository(STORED);
    const contents = createTaskContents({ repository, maxBytes: 1024 * 1024, maxBatch: 2 });
    await Promise.all(['a', 'b', 'c'].map((id) => contents.load(id)));
    expect(repository.roundTrips).toEqual([['a', 'b'], ['c']]);
  });

  it('serves what it was given from a whole record without reading', async () => {
    const repository = fakeRepository({});
    const contents = createTaskContents({ repository, maxBytes: 1024 * 1024 });
    contents.remember('a', 'from the snapshot');
    expect(await contents.load('a')).toBe('from the snapshot');
    expect(repository.roundTrips).toEqual([]);
  });
});
