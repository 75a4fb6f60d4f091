/** A real worker as a child process, for tests that kill, pause and resume it with signals. */
import { spawnNode, untilStarted, type NodeProcess } from './node-process.ts';
import { waitFor } from './wait-for.ts';

export interface WorkerProcess extends NodeProcess {
  id: string;
}

let counter = 0;

/** Starts `worker/main.ts` against `redisUrl` with short test intervals; resolves once it logged "worker started". */
export async function spawnWorker(redisUrl: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  counter += 1;
  const id = `test-worker-${process.pid}-${counter}`;
  const started = spawnNode(id, 'worker/main.ts', {
    REDIS_URL: redisUrl,
    WORKER_ID: id,
    LOG_LEVEL: 'info',
    HEARTBEAT_INTERVAL_MS: '200',
    STALL_INTERVAL_MS: '300',
    RETRY_DELAY_SCALE: '0.001',
    ...env,
  });
  await untilStarted(id, started, waitFor(() => started.lines.some((line) => line.includes('"worker started"')), { timeoutMs: 20_000, message: `${id} to start` }));
  return { id, ...started };
}
