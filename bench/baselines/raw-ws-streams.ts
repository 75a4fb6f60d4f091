/**
 * Bench-only baseline for the streaming scenario: the floor under live output. Built like the
 * real path, minus everything but delivery: one Redis subscription per process on
 * BENCH_CHANNEL (messages `<taskId>\n<frame>`, the task id first as on the real output
 * channel), routed in-process to the sockets that asked for that task, each sent the frame as
 * it came (pre-serialized once by the publisher: no per-subscriber work at all).
 *
 * Protocol: a client sends `sub <taskId>` (several per socket are fine) and is answered
 * `ok <taskId>` once the route is in place. Never started by the service itself.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';

const NEWLINE = 0x0a;
const httpServer = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: httpServer, maxPayload: 64 * 1024 });
const watchers = new Map<string, Set<WebSocket>>();

wss.on('connection', (socket) => {
  const mine: string[] = [];
  socket.on('message', (data) => {
    const text = data.toString();
    if (!text.startsWith('sub ')) return;
    const taskId = text.slice(4);
    const sockets = watchers.get(taskId);
    if (sockets) sockets.add(socket);
    else watchers.set(taskId, new Set([socket]));
    mine.push(taskId);
    socket.send(`ok ${taskId}`);
  });
  socket.on('close', () => {
    for (const taskId of mine) {
      const sockets = watchers.get(taskId);
      sockets?.delete(socket);
      if (sockets?.size === 0) watchers.delete(taskId);
    }
  });
});

const subscriber = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
await subscriber.subscribe(process.env.BENCH_CHANNEL ?? 'bench:streams');
subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
  const end = message.indexOf(NEWLINE);
  if (end <= 0) return;
  // Task ids are ASCII: latin1 is the cheapest exact decoding.
  const sockets = watchers.get(message.toString('latin1', 0, end));
  if (!sockets) return;
  const frame = message.subarray(end + 1);
  // A text frame, as graphql-ws sends: the same bytes on the wire.
  for (const socket of sockets) socket.send(frame, { binary: false });
});

httpServer.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'baseline listening', port: (httpServer.address() as AddressInfo).port }));
});
process.on('SIGTERM', () => process.exit(0));
