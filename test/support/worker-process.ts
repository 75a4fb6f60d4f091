/** A real worker as a child process, for tests that kill, pause and resume it with signals. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from './wait-for.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export interface WorkerProcess {
  id: string;
  pid: number;
  /** Every log line so far. */
  lines: string[];
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
}

let counter = 0;

export async function spawnWorker(redisUrl: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  counter += 1;
  const id = `test-worker-${process.pid}-${counter}`;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      WORKER_ID: id,
      LOG_LEVEL: 'info',
      HEARTBEAT_INTERVAL_MS: '200',
      STALL_INTERVAL_MS: '300',
      RETRY_DELAY_SCALE: '0.001',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => lines.push(line));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  await Promise.race([
    waitFor(() => lines.some((line) => line.includes('"worker started"')), { timeoutMs: 20_000, message: `${id} to start` }),
    exited.then((code) => Promise.reject(new Error(`${id} exited (${code}) before starting:\n${lines.join('\n')}`))),
  ]);
  return { id, pid: child.pid!, lines, signal: (signal) => child.kill(signal), exited };
}
