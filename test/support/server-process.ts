/** The real API server as a child process, for tests that stop it with real signals. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freeLoopbackPort } from '../../common/free-port.ts';
import { waitFor } from './wait-for.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export interface ServerProcess {
  url: string;
  wsUrl: string;
  pid: number;
  /** Every log line so far. */
  lines: string[];
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
}

export async function spawnServer(redisUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freeLoopbackPort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server', 'main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      REDIS_URL: redisUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      SERVE_CLIENT: 'false',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => lines.push(line));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitFor(async () => (await fetch(`${url}/ready`)).ok, { timeoutMs: 20_000, intervalMs: 100, message: 'the server process to be ready' }),
    exited.then((code) => Promise.reject(new Error(`server exited (${code}) before it was ready:\n${lines.join('\n')}`))),
  ]);
  return { url, wsUrl: `ws://127.0.0.1:${port}/graphql`, pid: child.pid!, lines, signal: (signal) => child.kill(signal), exited };
}

/** The index of the first log line whose `msg` is `message` (-1 when there is none). */
export function logIndex(lines: readonly string[], message: string): number {
  return lines.findIndex((line) => line.includes(`"msg":"${message}"`));
}
