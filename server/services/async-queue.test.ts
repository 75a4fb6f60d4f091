import { describe, expect, it } from 'vitest';
import { closableIterator, createAsyncQueue } from './async-queue.ts';

describe('createAsyncQueue', () => {
  it('delivers pushed items in order, before and after a pull is waiting', async () => {
    const queue = createAsyncQueue<number>();
    queue.push(1);
    const iterator = queue[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ value: 1, done: false });
    const pending = iterator.next();
    queue.push(2);
    expect(await pending).toEqual({ value: 2, done: false });
  });

  it('ends a pending pull at once when closed', async () => {
    const queue = createAsyncQueue<number>();
    const pending = queue[Symbol.asyncIterator]().next();
    queue.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    queue.push(3);
    expect(await queue[Symbol.asyncIterator]().next()).toEqual({ value: undefined, done: true });
  });
});

describe('closableIterator', () => {
  it('runs onClose once when stopped from outside while idle', async () => {
    const queue = createAsyncQueue<number>();
    let closes = 0;
    async function* run() {
      yield* queue;
    }
    const iterator = closableIterator(run(), () => {
      closes += 1;
      queue.close();
    });
    queue.push(1);
    expect(await iterator.next()).toEqual({ value: 1, done: false });
    const pending = iterator.next();
    await iterator.return(undefined);
    expect(await pending).toMatchObject({ done: true });
    await iterator.return(undefined);
    expect(closes).toBe(1);
  });

  it('runs onClose even if the generator never started', async () => {
    let closed = false;
    async function* never() {
      yield 1;
    }
    await closableIterator(never(), () => {
      closed = true;
    }).return(undefined);
    expect(closed).toBe(true);
  });
});
