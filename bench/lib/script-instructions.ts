/**
 * Instructions redis-server executes per call of the scripts on a task's path: noise-free, where
 * µs on this shared machine move by ±30 % (its VM has no hardware counters, so valgrind counts
 * them). Each phase is counted alone: 400 creates, 200 dispatches (pick and claim), 200 direct
 * claims, 200 dispatches that find nothing (`idle`, the fixed cost of a call), 200 claims of a
 * missing task, and the completions. A commit before the dispatcher has no dispatch (its phase is empty).
 *
 *   valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.%p \
 *     redis-server --port 23456 --save '' --appendonly no &
 *   node --import tsx bench/lib/script-instructions.ts 23456 <its pid> [400]
 *   callgrind_annotate /tmp/cg.<pid>.<n> | grep 'PROGRAM TOTALS'   # n: 1 create, 2 dispatch, 3 claim, 4 idle, 5 missing, 6 complete
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { encodeBeeQueueJob } from '../../common/bee-queue.ts';
import { createRedisKeys } from '../../schema/src/redis-keys.ts';
import { createTaskRepository } from '../../server/infra/task-repository.ts';
import { createTaskStore } from '../../worker/task-store.ts';

const [port, pid, nArg] = process.argv.slice(2);
const N = Number(nArg ?? 500);
const client = new Redis({ port: Number(port), host: '127.0.0.1' });
const ctl = (...args: string[]) => execFileSync('callgrind_control', [...args, pid!], { stdio: 'ignore' });
const keys = createRedisKeys();
const repository = createTaskRepository({ redis: client, keys, maxEventsPerTask: 100, idempotencyTtlSeconds: 3600 });
const store = createTaskStore({ redis: client, keys, workerId: 'micro', leaseMs: 600_000, maxEventsPerTask: 100 });
const enc = (id: string) => (encodeBeeQueueJob as (d: unknown, o?: unknown) => string)({ taskId: id, queued: true }, {});
const ids: string[] = [];
// Loads the scripts (and the first keys) before anything is counted.
for (let i = 0; i < 20; i++) { const id = randomUUID(); await repository.create({ id, tenant: 'tenant-0', type: 'SUMMARIZE', content: 'Bench task.', maxRetries: 3, idempotencyKey: null, cost: 100, job: enc(id) }); ids.push(id); }
const phase = async (name: string, work: () => Promise<void>) => { ctl('-z'); ctl('-i', 'on'); await work(); ctl('-i', 'off'); ctl('-d', name); };
await phase('create', async () => { for (let i = 0; i < N; i++) { const id = randomUUID(); ids.push(id); await repository.create({ id, tenant: 'tenant-0', type: 'SUMMARIZE', content: 'Bench task.', maxRetries: 3, idempotencyKey: null, cost: 100, job: enc(id) }); } });
const leases: { taskId: string; tenant: string; token: string }[] = [];
const canDispatch = typeof (store as { dispatch?: unknown }).dispatch === 'function';
/** `store.dispatch`, which a commit before the dispatcher does not have (called only when it does). */
function dispatchOf(s: typeof store) {
  return (s as unknown as { dispatch(ticket: object, token: string, ratio: number): Promise<{ outcome: { taskId: string; tenant: string } }> }).dispatch.bind(s);
}
await phase('dispatch', async () => { for (let i = 0; i < (canDispatch ? N / 2 : 0); i++) { const token = randomUUID(); const { outcome } = await dispatchOf(store)({ taskId: '', tenant: '', lane: '' }, token, 0.3); leases.push({ taskId: outcome.taskId, tenant: outcome.tenant, token }); } });
const got = new Set(leases.map((l) => l.taskId));
const rest = ids.filter((id) => !got.has(id)).slice(0, N / 2);
await phase('claim', async () => { for (const id of rest) { const token = randomUUID(); await store.claim(id, token); leases.push({ taskId: id, tenant: 'tenant-0', token }); } });
await phase('idle', async () => { for (let i = 0; i < (canDispatch ? 200 : 0); i++) await dispatchOf(store)({ taskId: '', tenant: '', lane: '' }, 'x', 0.3); });
await phase('missing', async () => { for (let i = 0; i < 200; i++) await store.claim('nope-' + i, 'x', 'tenant-0'); });
await phase('complete', async () => { for (const l of leases) await store.complete(l, 'done', null); });
console.log(JSON.stringify({ dispatch: canDispatch ? N / 2 : 0, claim: rest.length, create: N, complete: leases.length }));
client.disconnect();
