/**
 * Bench-only peer: the worker process of the BullMQ pipeline (see bench/peer/server.ts). A
 * BullMQ `Worker` running a no-op "summary", like the service's PROVIDER=noop: the pipeline is
 * what is measured. Every option at BullMQ's documented default but `concurrency` (default 1),
 * set by PEER_CONCURRENCY (default 100) to the slots the bench gives our workers.
 */
import { Worker } from 'bullmq';
import { PEER_QUEUE, peerConnection } from './queue.ts';

const worker = new Worker<{ content: string }, string>(PEER_QUEUE, async () => 'noop', {
  connection: peerConnection(),
  concurrency: Number(process.env.PEER_CONCURRENCY ?? 100),
});
// An unhandled 'error' event would end the process; the bench reads this log if it dies.
worker.on('error', (error) => console.error(JSON.stringify({ msg: 'peer worker error', error: error.message })));
await worker.waitUntilReady();
console.log(JSON.stringify({ msg: 'peer worker ready' }));
process.on('SIGTERM', () => {
  void worker.close().finally(() => process.exit(0));
});
