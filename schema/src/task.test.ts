import { describe, expect, it } from 'vitest';
import { MalformedTaskHashError, parseTaskHash, parseTaskState, TASK_STATES, taskHashSchema } from './task.ts';
import { Channels } from './channels.ts';

const VALID: Record<string, string> = {
  id: '0b7a6f0e-2f55-4a43-9b55-1f0f2d7c9a10',
  tenant: 'acme',
  type: 'SUMMARIZE',
  state: 'COMPLETED',
  version: '5',
  content: 'Summarize this.',
  result: 'Done.',
  progress: '100',
  retryCount: '1',
  maxRetries: '3',
  attempt: '2',
  reopens: '0',
  errors: JSON.stringify([{ errorClass: 'RATE_LIMIT', message: 'slow down', httpStatus: 429, attempt: 1, at: 1_700_000_000_000, nextAttemptAt: 1_700_000_001_000 }]),
  usage: JSON.stringify({ model: 'm', promptTokens: 10, completionTokens: null, totalTokens: 12 }),
  workerId: 'worker-1',
  leaseExpiresAt: '',
  nextAttemptAt: '',
  createdAt: '1700000000000',
  updatedAt: '1700000002000',
  startedAt: '1700000000500',
  completedAt: '1700000002000',
  idempotencyKey: 'key-1',
  trace: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  dlqClass: 'RATE_LIMIT',
  apiKeyId: 'anonymous',
  usageCalls: '2',
  usagePromptTokens: '10',
  usageCompletionTokens: '2',
  usageCachedTokens: '0',
  usageReasoningTokens: '0',
  usageCostNano: '1500',
  usageModel: 'm',
  usageEstimated: '1',
  priority: 'HIGH',
  cost: '1124',
  queued: 'new',
  waitReason: 'QUEUED',
};

/** Every value tried in every field: each kind of field's good and bad values, and more. */
const CANDIDATES: unknown[] = [
  undefined,
  '',
  '0',
  '7',
  '-3',
  '1.5',
  '1e20',
  'abc',
  'Infinity',
  'SUMMARIZE',
  'PENDING',
  'STALLED',
  'HIGH',
  'retry',
  'RETRY_DELAY',
  '1',
  '[]',
  '{}',
  'null',
  '[{"errorClass":"STALLED","message":"m","httpStatus":null,"attempt":1,"at":5,"extra":true}]',
  '[{"errorClass":"nope","message":"m","httpStatus":null,"attempt":1,"at":5}]',
  '{"model":"m","promptTokens":1,"completionTokens":null,"totalTokens":2,"extra":1}',
  '{"model":"m","promptTokens":"1","completionTokens":null,"totalTokens":2}',
  '{"model":"m","promptTokens":1.5,"completionTokens":null,"totalTokens":2}',
  '{"model":"m"}',
  '"text"',
  '[',
  5,
  null,
  true,
];

type Outcome = { ok: true; value: unknown } | { ok: false };
const outcome = (parse: () => unknown): Outcome => {
  try {
    return { ok: true, value: parse() };
  } catch {
    return { ok: false };
  }
};

function expectSameAnswer(hash: Record<string, unknown>) {
  const expected = outcome(() => taskHashSchema.parse(hash));
  const actual = outcome(() => parseTaskHash(hash));
  expect(actual, JSON.stringify(hash)).toStrictEqual(expected);
}

const without = (hash: Record<string, unknown>, field: string) => Object.fromEntries(Object.entries(hash).filter(([key]) => key !== field));

describe('parseTaskHash', () => {
  it('answers what taskHashSchema answers for a full hash, a minimal one and one with unknown fields', () => {
    expectSameAnswer(VALID);
    expect(parseTaskHash(VALID).errors).toHaveLength(1);
    const minimal = Object.fromEntries(['id', 'tenant', 'type', 'state', 'version', 'progress', 'retryCount', 'maxRetries', 'attempt', 'createdAt', 'updatedAt'].map((field) => [field, VALID[field]]));
    expectSameAnswer(minimal);
    expect(parseTaskHash(minimal)).not.toHaveProperty('content');
    expectSameAnswer({ ...VALID, somethingNew: 'x' });
    expect(parseTaskHash({ ...VALID, somethingNew: 'x' })).not.toHaveProperty('somethingNew');
  });

  it('answers what taskHashSchema answers, value or failure, for every field set to every candidate value', () => {
    for (const field of Object.keys(taskHashSchema.shape)) {
      for (const candidate of CANDIDATES) expectSameAnswer(candidate === undefined ? without(VALID, field) : { ...VALID, [field]: candidate });
    }
  });

  it('answers what taskHashSchema answers for random mixes of candidate values', () => {
    let seed = 20261206;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 2000; i += 1) {
      const hash: Record<string, unknown> = { ...VALID };
      for (const field of Object.keys(taskHashSchema.shape)) {
        if (random() < 0.15) hash[field] = CANDIDATES[Math.floor(random() * CANDIDATES.length)];
        if (hash[field] === undefined) delete hash[field];
      }
      expectSameAnswer(hash);
    }
  });

  it('names the field it cannot read', () => {
    expect(() => parseTaskHash({ ...VALID, version: '1.5' })).toThrow(new MalformedTaskHashError('version', 'is not an integer'));
    expect(() => parseTaskHash(without(VALID, 'tenant'))).toThrow(MalformedTaskHashError);
  });
});

describe('parseTaskChannelMessage', () => {
  it('reads a change without its content, and a deletion', () => {
    const change = Channels.tasks.decode(JSON.stringify(without(VALID, 'content')));
    expect(change).toStrictEqual({ kind: 'change', task: taskHashSchema.parse(without(VALID, 'content')) });
    expect(Channels.tasks.decode(JSON.stringify({ id: 'a', tenant: 'acme', deleted: '1' }))).toStrictEqual({ kind: 'deleted', id: 'a', tenant: 'acme' });
  });

  it('throws on a malformed message', () => {
    expect(() => Channels.tasks.decode('{')).toThrow(SyntaxError);
    expect(() => Channels.tasks.decode(JSON.stringify({ ...VALID, state: 'LOST' }))).toThrow(MalformedTaskHashError);
  });
});


describe('parseTaskState', () => {
  it('reads every state the scripts write', () => {
    for (const state of TASK_STATES) expect(parseTaskState(state)).toBe(state);
  });

  it('names no state for a value it does not know, however close', () => {
    for (const value of ['', 'pending', 'PAUSED', ' ACTIVE', 'ACTIVE\n', 'toString', '__proto__']) expect(parseTaskState(value), value).toBeUndefined();
  });
});

describe('parseTaskHash: the dispatcher fields', () => {
  const stored = { id: 'a', tenant: 't', type: 'SUMMARIZE', state: 'PENDING', version: '1', progress: '0', retryCount: '0', maxRetries: '3', attempt: '0', createdAt: '1', updatedAt: '1' };

  it('reads priority, cost, line and wait reason as the scripts write them', () => {
    expect(parseTaskHash({ ...stored, priority: 'HIGH', cost: '1124', queued: 'retry', waitReason: 'CIRCUIT_OPEN' })).toMatchObject({
      priority: 'HIGH',
      cost: 1124,
      queued: 'retry',
      waitReason: 'CIRCUIT_OPEN',
    });
  });

  it('gives a task from before the dispatcher NORMAL priority and no line, cost or reason', () => {
    expect(parseTaskHash(stored)).toMatchObject({ priority: 'NORMAL', cost: null, queued: null, waitReason: null });
  });

  it('reads a cleared field (written as an empty string) and a value it does not know as absent, without failing', () => {
    expect(parseTaskHash({ ...stored, priority: 'URGENT', cost: '', queued: '', waitReason: 'SOMETHING_NEW' })).toMatchObject({
      priority: 'NORMAL',
      cost: null,
      queued: null,
      waitReason: null,
    });
  });
});
