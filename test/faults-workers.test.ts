/**
 * Worker faults with real processes and real signals: SIGKILL mid-call, SIGSTOP past the
 * lease, a poison task that kills every worker that runs it, and graceful shutdown. Each
 * ends with the loss audit.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TransitionReason } from '../schema/src/transition-reasons.ts';
import { expectCleanAudit } from './support/audit.ts';
import { useSystem } from './support/fixtures.ts';
import { getTask, SAMPLE_TEXT, slowWhenMarked, submitTask, waitForTask, type TaskView } from './support/system.ts';
import { waitFor } from './support/wait-for.ts';
import type { WorkerProcess } from './support/worker-process.ts';

const system = useSystem({ fake: true, server: { MAX_RETRIES: '1' } });
const { keys } = system;
// The workers this test spawned (the fixture kills them after it).
let workers: WorkerProcess[] = [];
afterEach(() => {
  workers = [];
});

beforeAll(() => {
  // Calls for text marked SLOW-<ms> take that long: long enough to be interrupted.
  system.fake.script(slowWhenMarked);
});

async function worker(env: Record<string, string> = {}): Promise<WorkerProcess> {
  const spawned = await system.spawnWorker({ LEASE_MS: '1000', SWEEP_INTERVAL_MS: '500', PROVIDER_TIMEOUT_MS: '15000', ...env });
  workers.push(spawned);
  return spawned;
}

const until = (id: string, predicate: (task: TaskView) => boolean, message: string, timeoutMs = 20_000) =>
  waitForTask(system.server, id, predicate, { timeoutMs, intervalMs: 25, message });

// Each task's text carries a marker, so the provider calls it caused can be counted (I5).
const markers = new Map<string, string>();
let markerCount = 0;

const providerCalls = (ids: readonly string[]) => {
  const calls = new Map<string, number>();
  for (const request of system.fake.requests) {
    const text = JSON.stringify(request.body);
    for (const id of ids) if (text.includes(markers.get(id)!)) calls.set(id, (calls.get(id) ?? 0) + 1);
  }
  return calls;
};

const expectAuditClean = (ids: readonly string[]) =>
  expectCleanAudit(system.redis.client, keys, ids, { providerCalls: () => providerCalls(ids) });

async function submitMarked(text: string): Promise<string> {
  markerCount += 1;
  const marker = `[mark-${markerCount}]`;
  const task = await submitTask(system.server, `${SAMPLE_TEXT} ${text} ${marker}`);
  markers.set(task.id, marker);
  return task.id;
}

describe('worker faults', () => {
  it('finishes a task once, on attempt 2, after its worker is SIGKILLed mid-call', async () => {
    const first = await worker();
    // The call must outlast starting the second worker, which takes seconds on a loaded machine.
    const id = await submitMarked('SLOW-6000 kill-mid-call.');
    await until(id, (t) => t.state === 'ACTIVE', 'the first worker to claim it');
    // Killed first, the replacement spawned after: starting a worker can take longer than the call.
    first.signal('SIGKILL');
    await first.exited;
    const second = await worker();

    const done = await until(id, (t) => t.state === 'COMPLETED', 'completion after the kill');
    expect(done.history.filter((h) => h.state === 'ACTIVE').map((h) => h.workerId)).toEqual([first.id, second.id]);
    expect(done.errors).toEqual([expect.objectContaining({ errorClass: 'STALLED', attempt: 1 })]);
    expect(done.history.filter((h) => h.state === 'COMPLETED')).toHaveLength(1);
    await expectAuditClean([id]);
  });

  it('rejects the write of a worker that wakes up after its task was taken over (SIGSTOP/SIGCONT)', async () => {
    const sleeper = await worker();
    const id = await submitMarked('SLOW-800 stop-and-wake.');
    await until(id, (t) => t.state === 'ACTIVE', 'the sleeper to claim it');
    sleeper.signal('SIGSTOP');
    const rescuer = await worker();
    const done = await until(id, (t) => t.state === 'COMPLETED', 'the rescuer to finish it');
    expect(done.history.at(-1)!.workerId).toBe(rescuer.id);

    sleeper.signal('SIGCONT');
    await waitFor(() => sleeper.lines.some((line) => /stale lease|lease lost/.test(line)), { timeoutMs: 10_000, message: 'the sleeper to notice' });
    const after = (await getTask(system.server, id))!;
    expect(after.version).toBe(done.version);
    expect(after.history.filter((h) => h.state === 'COMPLETED')).toHaveLength(1);
    await expectAuditClean([id]);
  });

  it('sends a task that kills every worker running it to the DLQ after its budget, while other work flows', { timeout: 120_000 }, async () => {
    await worker();
    await worker();
    // Long enough that this loop, slowed by starting a replacement worker on a loaded
    // machine, still catches each new holder before the call would finish.
    const poison = await submitMarked('SLOW-5000 POISON.');
    const normal = await Promise.all([1, 2, 3, 4, 5].map((i) => submitMarked(`Normal ${i}.`)));
    const killed = new Set<string>();
    // The poison "crashes" whichever worker runs it: kill it the moment it claims the task.
    await waitFor(async () => {
      const task = (await getTask(system.server, poison))!;
      if (task.state === 'ACTIVE' && task.workerId && !killed.has(task.workerId)) {
        const victim = workers.find((w) => w.id === task.workerId);
        if (victim) {
          killed.add(victim.id);
          victim.signal('SIGKILL');
          await victim.exited;
          await worker();
        }
      }
      return task.state === 'DLQ';
    }, { timeoutMs: 90_000, intervalMs: 20, message: 'the poison task to reach the DLQ' });

    const dead = (await getTask(system.server, poison))!;
    expect(dead.errors.map((e) => [e.errorClass, e.attempt])).toEqual([
      ['STALLED', 1],
      ['STALLED', 2],
    ]);
    expect(killed.size).toBe(2);
    for (const id of normal) await until(id, (t) => t.state === 'COMPLETED', `normal task ${id}`);
    await expectAuditClean([poison, ...normal]);
  });

  it('lets a running task finish on SIGTERM, then exits 0', async () => {
    const leaving = await worker({ SHUTDOWN_GRACE_MS: '5000' });
    const id = await submitMarked('SLOW-700 graceful.');
    await until(id, (t) => t.state === 'ACTIVE', 'the worker to claim it');
    leaving.signal('SIGTERM');
    expect(await leaving.exited).toBe(0);
    const done = (await getTask(system.server, id))!;
    expect(done.state).toBe('COMPLETED');
    expect(done.errors).toEqual([]);
    expect(leaving.lines.join('\n')).not.toContain('second signal');
    await expectAuditClean([id]);
  });

  it('hands back a task that outlives the shutdown grace; another worker resumes it at no retry cost', async () => {
    // No sweeper help within this test: only the hand-back's own takeover job can resume it.
    const leaving = await worker({ SHUTDOWN_GRACE_MS: '100', SWEEP_INTERVAL_MS: '60000' });
    const id = await submitMarked('SLOW-1500 outlives-grace.');
    await until(id, (t) => t.state === 'ACTIVE', 'the worker to claim it');
    leaving.signal('SIGTERM');
    expect(await leaving.exited).toBe(0);
    const next = await worker({ SWEEP_INTERVAL_MS: '60000' });
    const done = await until(id, (t) => t.state === 'COMPLETED', 'the takeover', 8000);
    // Handed back at shutdown: resumed by the next worker without costing a retry.
    expect(done.errors).toEqual([]);
    expect(done.retryCount).toBe(0);
    expect(done.history.filter((h) => h.state === 'ACTIVE').map((h) => h.workerId)).toEqual([leaving.id, next.id]);
    expect(done.history.at(-2)!.reason).toBe(TransitionReason.RESUMED_AFTER_SHUTDOWN);
    await expectAuditClean([id]);
  });
});
