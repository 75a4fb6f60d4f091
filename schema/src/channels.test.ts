import { describe, expect, it, vi } from 'vitest';
import { Channels, createChannelRouter, publication, routeTo } from './channels.ts';
import { createRedisKeys } from './redis-keys.ts';
import { lineKeys } from './scripts/dispatch-lines.ts';
import { TASK_SCRIPTS } from './scripts/index.ts';
import { taskScriptCall } from './scripts/kit/call.ts';

const keys = createRedisKeys('ch');

describe('channels', () => {
  it('reads back what a TypeScript publisher writes', () => {
    expect(publication(keys, Channels.circuit, 'open')).toEqual([keys.circuitChannel(), 'open']);
    expect(Channels.circuit.decode(Channels.circuit.encode('reset'))).toBe('reset');
    expect(Channels.workers.decode(Channels.workers.encode('worker-1'))).toBe('worker-1');
    expect(Channels.provider.decode(Channels.provider.encode('RATE_LIMITED'))).toBe('RATE_LIMITED');
  });

  it('refuses a message that is not its payload', () => {
    expect(() => Channels.circuit.decode('explode')).toThrow();
    expect(() => Channels.provider.decode('FINE')).toThrow();
    expect(() => Channels.workers.decode('')).toThrow();
    expect(() => Channels.cancel.decode('')).toThrow();
    expect(() => Channels.tasks.decode('{"id":"x"}')).toThrow();
    expect(() => Channels.output.decode('t1\nnot-a-cursor\n-\ntext')).toThrow();
  });

  it('reads what the model breaker scripts write: the state, then the whole model id', () => {
    expect(Channels.modelBreakers.decode('OPEN vendor/model:free')).toEqual({ state: 'OPEN', model: 'vendor/model:free' });
    expect(() => Channels.modelBreakers.decode('OPEN')).toThrow();
    expect(() => Channels.modelBreakers.decode('SHUT vendor/model')).toThrow();
    expect(() => Channels.modelBreakers.decode('OPEN ')).toThrow();
  });

  it('reads what the scripts write on the tasks channel: a deletion notice', () => {
    expect(Channels.tasks.decode('{"id":"t1","tenant":"acme","deleted":"1"}')).toEqual({ kind: 'deleted', id: 't1', tenant: 'acme' });
  });

  it("gives a script the names of the channels it declares, after its arguments, with no caller passing them", () => {
    const scope = { taskId: 't1', tenant: 'acme', at: 0 };
    const script = TASK_SCRIPTS.taskCancel;
    const call = taskScriptCall(script, keys, scope, { maxEvents: 10, actor: '' }, lineKeys(keys), { reason: 'x' });
    // Channels follow the arguments; the key templates (if any) come after them.
    const position = call.args.length - script.templates.length;
    expect(call.args[position - 1]).toBe(keys.cancelChannel());
    expect(call.args[1]).toBe(keys.tasksChannel());
    expect(script.lua).toContain(`local CANCEL_CHANNEL = ARGV[${position}]`);
  });

  it('routes each message to its channel, decoded, and reports one that does not decode', () => {
    const aborted = vi.fn();
    const commanded = vi.fn();
    const malformed = vi.fn();
    const router = createChannelRouter(keys, [routeTo(Channels.cancel, aborted), routeTo(Channels.circuit, commanded)], malformed);
    expect(router.names).toEqual([keys.cancelChannel(), keys.circuitChannel()]);
    router.route(keys.cancelChannel(), 'task-1');
    router.route(keys.circuitChannel(), 'nonsense');
    router.route(keys.workersChannel(), 'worker-1');
    expect(aborted).toHaveBeenCalledWith('task-1');
    expect(commanded).not.toHaveBeenCalled();
    expect(malformed).toHaveBeenCalledWith(keys.circuitChannel(), expect.anything());
  });
});
