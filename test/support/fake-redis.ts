/**
 * A Redis impostor on loopback that reports another `redis_version`: enough of the protocol
 * (RESP2) for the handshakes of ioredis and bee-queue's node_redis, `INFO`, and the read-only
 * commands bee-queue sends on connecting (`SCRIPT EXISTS`, `SUBSCRIBE`), for the processes'
 * version check; anything else is an unknown command. No old
 * redis-server is installed here, and the check must be seen refusing a real reply.
 */
import { createServer, type Socket } from 'node:net';
import { freeLoopbackPort } from '../../common/free-port.ts';

export interface FakeRedis {
  url: string;
  port: number;
  /** Every command received, upper-cased name first. */
  commands: string[][];
  close(): Promise<void>;
}

const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;

/** Parses the complete commands (RESP arrays of bulk strings) at the start of `buffer`; returns them and the bytes left. */
function parseCommands(buffer: Buffer): { commands: string[][]; rest: Buffer } {
  const commands: string[][] = [];
  let offset = 0;
  const line = (from: number) => {
    const end = buffer.indexOf('\r\n', from);
    return end < 0 ? null : { text: buffer.toString('latin1', from, end), next: end + 2 };
  };
  for (;;) {
    const header = line(offset);
    if (!header || header.text[0] !== '*') break;
    const args: string[] = [];
    let at = header.next;
    for (let i = 0; i < Number(header.text.slice(1)); i += 1) {
      const size = line(at);
      if (!size) return { commands, rest: buffer.subarray(offset) };
      const length = Number(size.text.slice(1));
      if (buffer.length < size.next + length + 2) return { commands, rest: buffer.subarray(offset) };
      args.push(buffer.toString('utf8', size.next, size.next + length));
      at = size.next + length + 2;
    }
    commands.push(args);
    offset = at;
  }
  return { commands, rest: buffer.subarray(offset) };
}

/** Starts the impostor on `port` (default: a free one). */
export async function startFakeRedis(version: string, port?: number): Promise<FakeRedis> {
  const listenPort = port ?? (await freeLoopbackPort());
  const commands: string[][] = [];
  const sockets = new Set<Socket>();
  const info = `# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\n\r\n# Persistence\r\nloading:0\r\n`;
  const answer = (args: string[]): string => {
    switch (args[0]!.toUpperCase()) {
      case 'INFO':
        return bulk(info);
      case 'PING':
        return '+PONG\r\n';
      case 'CLIENT':
      case 'SELECT':
      case 'QUIT':
        return '+OK\r\n';
      // bee-queue's connections ask for their scripts and subscribe as soon as they exist.
      case 'SCRIPT':
        return `*${args.length - 2}\r\n${':1\r\n'.repeat(args.length - 2)}`;
      case 'SUBSCRIBE':
        return args.slice(1).map((channel, i) => `*3\r\n${bulk('subscribe')}${bulk(channel)}:${i + 1}\r\n`).join('');
      default:
        return `-ERR unknown command '${args[0]}'\r\n`;
    }
  };
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const parsed = parseCommands(Buffer.concat([pending, chunk]));
      pending = parsed.rest;
      for (const args of parsed.commands) {
        commands.push([args[0]!.toUpperCase(), ...args.slice(1)]);
        socket.write(answer(args));
        if (args[0]!.toUpperCase() === 'QUIT') socket.end();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  return {
    url: `redis://127.0.0.1:${listenPort}`,
    port: listenPort,
    commands,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
