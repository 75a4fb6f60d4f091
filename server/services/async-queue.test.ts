import { describe, expect, it } from 'vitest';
import { closableIterator, createAsyncQueue, SubscriberTooSlowError } from './async-queue.ts';
import { createBacklog } from './backlog.ts';

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

describe('createAsyncQueue with a backlog', () => {
  it('counts what it holds against the backlog and gives it back as items are pulled', async () => {
    const backlog = createBacklog({ maxEvents: 10, maxBytes: 1000 });
    const queue = createAsyncQueue<string>({ backlog });
    queue.push('a', 100);
    queue.push('b', 200);
    expect([backlog.events, backlog.bytes]).toEqual([2, 300]);
    await queue[Symbol.asyncIterator]().next();
    expect([backlog.events, backlog.bytes]).toEqual([1, 200]);
    queue.close();
    expect([backlog.events, backlog.bytes]).toEqual([0, 0]);
  });

  it('overflows past maxBytes or maxEvents: every queue on the backlog drops its items and fails its reader', async () => {
    const backlog = createBacklog({ maxEvents: 3, maxBytes: 1000 });
    const overflows: string[] = [];
    backlog.onOverflow(() => overflows.push('connection'));
    const first = createAsyncQueue<string>({ backlog });
    const second = createAsyncQueue<string>({ backlog });
    first.push('a', 600);
    second.push('b', 600);
    expect(overflows).toEqual(['connection']);
    expect([first.closed, second.closed]).toEqual([true, true]);
    expect([backlog.events, backlog.bytes]).toEqual([0, 0]);
    await expect(first[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(SubscriberTooSlowError);
    // A queue made on an overflowed backlog fails at once; pushes are ignored.
    const late = createAsyncQueue<string>({ backlog });
    late.push('c', 1);
    await expect(late[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(SubscriberTooSlowError);

    const byCount = createBacklog({ maxEvents: 3, maxBytes: 1_000_000 });
    const queue = createAsyncQueue<number>({ backlog: byCount });
    for (const item of [1, 2, 3]) queue.push(item, 1);
    expect(byCount.overflowed).toBe(false);
    queue.push(4, 1);
    expect(byCount.overflowed).toBe(true);
  });

  it("counts the socket's unflushed bytes with the queued ones: on each push, and on check() after a send", async () => {
    let unflushed = 0;
    const backlog = createBacklog({ maxEvents: 10, maxBytes: 1000 }, () => unflushed);
    const queue = createAsyncQueue<string>({ backlog });
    queue.push('a', 300);
    unflushed = 600;
    backlog.check();
    expect(backlog.overflowed).toBe(false);
    // 300 queued + 600 unflushed + 200 more queued: past 1000.
    queue.push('b', 200);
    expect(backlog.overflowed).toBe(true);
    await expect(queue[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(SubscriberTooSlowError);

    // Nothing queued at all: the socket alone can overflow it.
    const socketOnly = createBacklog({ maxEvents: 10, maxBytes: 1000 }, () => unflushed);
    unflushed = 1001;
    socketOnly.check();
    expect(socketOnly.overflowed).toBe(true);
  });

  it('fails a pull that was already waiting when the backlog overflows elsewhere', async () => {
    const backlog = createBacklog({ maxEvents: 1, maxBytes: 1000 });
    const idle = createAsyncQueue<string>({ backlog });
    const pending = idle[Symbol.asyncIterator]().next();
    const busy = createAsyncQueue<string>({ backlog });
    busy.push('a');
    busy.push('b');
    await expect(pending).rejects.toBeInstanceOf(SubscriberTooSlowError);
  });

  it('with latestOnly holds only the newest item', async () => {
    const queue = createAsyncQueue<number>({ latestOnly: true });
    for (const item of [1, 2, 3]) queue.push(item);
    const iterator = queue[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ value: 3, done: false });
    const pending = iterator.next();
    queue.push(4);
    expect(await pending).toEqual({ value: 4, done: false });
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
