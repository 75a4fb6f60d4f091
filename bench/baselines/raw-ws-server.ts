/**
 * Bench-only baseline: a bare `ws` server that forwards each message of the Redis channel
 * BENCH_CHANNEL, as it is (pre-serialized), to every connected socket. The cheapest fan-out
 * there is on this machine: no GraphQL, no per-subscriber work.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';

const httpServer = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: httpServer, maxPayload: 64 * 1024 });
const subscriber = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
await subscriber.subscribe(process.env.BENCH_CHANNEL ?? 'bench:fanout');
subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
  for (const client of wss.clients) client.send(message);
});
httpServer.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'baseline listening', port: (httpServer.address() as AddressInfo).port }));
});
process.on('SIGTERM', () => process.exit(0));
