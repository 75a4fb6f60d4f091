/** The real API server as a child process, for tests that stop it with real signals. */
import { freeLoopbackPort } from '../../common/free-port.ts';
import { spawnNode, untilStarted, type NodeProcess } from './node-process.ts';
import { waitFor } from './wait-for.ts';

export interface ServerProcess extends NodeProcess {
  url: string;
  wsUrl: string;
}

/** Starts `server/main.ts` on a free loopback port against `redisUrl`; resolves once /ready answers 200. */
export async function spawnServer(redisUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freeLoopbackPort();
  const started = spawnNode('server', 'server/main.ts', {
    NODE_ENV: 'test',
    REDIS_URL: redisUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    SERVE_CLIENT: 'false',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await untilStarted(
    'server',
    started,
    waitFor(async () => (await fetch(`${url}/ready`)).ok, { timeoutMs: 20_000, intervalMs: 100, message: 'the server process to be ready' }),
  );
  return { url, wsUrl: `ws://127.0.0.1:${port}/graphql`, ...started };
}

/** The index of the first log line whose `msg` is `message` (-1 when there is none). */
export function logIndex(lines: readonly string[], message: string): number {
  return lines.findIndex((line) => line.includes(`"msg":"${message}"`));
}
