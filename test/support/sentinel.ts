/**
 * A private Sentinel deployment on loopback for one test file: a master, one replica and
 * three redis-sentinel processes (quorum 2), each on a free port, data in a temp directory.
 * Failure detection is shrunk to `downAfterMs` so a failover takes a couple of seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freeLoopbackPort } from '../../common/free-port.ts';
import { watchErrors } from './error-watch.ts';
import { waitFor } from './wait-for.ts';

export const MASTER_NAME = 'atfmaster';

export interface TestSentinel {
  /** redis+sentinel:// URL naming all three Sentinels. */
  url: string;
  sentinelPorts: number[];
  /** The port of the data node Sentinel calls master now. */
  masterPort(): Promise<number>;
  /** A client that follows the master through Sentinel (for assertions). */
  client: Redis;
  /** SIGKILLs the data node on `port`. */
  kill(port: number): Promise<void>;
  dispose(): Promise<void>;
}

const probe = async (port: number, check: (client: Redis) => Promise<boolean>) => {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await check(client);
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
};

export async function startSentinel(options: { downAfterMs?: number } = {}): Promise<TestSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'atf-sentinel-'));
  const children = new Map<number, ChildProcess>();
  const [masterPort, replicaPort, ...sentinelPorts] = await Promise.all([1, 2, 3, 4, 5].map(() => freeLoopbackPort()));

  const dataNode = (port: number, extra: string[]) => {
    mkdirSync(join(dir, String(port)), { recursive: true });
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', join(dir, String(port)), ...extra], { stdio: 'ignore' });
    watchErrors('redis-server process', child);
    children.set(port, child);
  };
  dataNode(masterPort!, []);
  dataNode(replicaPort!, ['--replicaof', '127.0.0.1', String(masterPort)]);
  await waitFor(() => probe(replicaPort!, async (c) => /master_link_status:up/.test(await c.info('replication'))), { timeoutMs: 15_000, message: 'the replica to sync' });

  for (const port of sentinelPorts) {
    const file = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${MASTER_NAME} 5000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        '',
      ].join('\n'),
    );
    const sentinel = spawn('redis-sentinel', [file], { stdio: 'ignore' });
    watchErrors('redis-sentinel process', sentinel);
    children.set(port, sentinel);
  }
  // Sentinels find each other through hello messages on the master (every 2 s).
  await waitFor(
    () =>
      probe(sentinelPorts[0]!, async (c) => {
        const sentinels = (await c.call('SENTINEL', 'sentinels', MASTER_NAME)) as unknown[];
        const replicas = (await c.call('SENTINEL', 'replicas', MASTER_NAME)) as unknown[];
        return sentinels.length === 2 && replicas.length === 1;
      }),
    { timeoutMs: 20_000, intervalMs: 200, message: 'the Sentinels to know each other and the replica' },
  );

  const url = `redis+sentinel://${sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',')}/${MASTER_NAME}`;
  const client = new Redis({ sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })), name: MASTER_NAME, maxRetriesPerRequest: 2, failoverDetector: true });
  watchErrors('sentinel client', client);

  return {
    url,
    sentinelPorts,
    client,
    async masterPort() {
      for (const port of sentinelPorts) {
        let answer: number | null = null;
        await probe(port, async (c) => {
          const reply = (await c.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as [string, string];
          answer = Number(reply[1]);
          return true;
        });
        if (answer !== null) return answer;
      }
      throw new Error('no Sentinel answered');
    },
    async kill(port) {
      const child = children.get(port);
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    async dispose() {
      client.disconnect();
      await Promise.all(
        [...children.values()].map((child) => {
          if (child.exitCode !== null || child.signalCode !== null) return undefined;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGKILL');
          return exited;
        }),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
