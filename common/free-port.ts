import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Where the kernel hands out ports for `listen(0)` and outgoing connections. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high) return [low, high];
  } catch {
    // Not Linux: the IANA dynamic range.
  }
  return [49152, 65535];
}

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/**
 * A TCP port on loopback that nothing listens on right now, chosen outside the kernel's
 * ephemeral range. Callers pick a port first and listen on it later (a redis-server, a server
 * restarted on the same address): a port from the ephemeral range could be handed to another
 * process's `listen(0)` or outgoing connection in between.
 */
export async function freeLoopbackPort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  const high = Math.max(low + 1000, ephemeralLow - 1);
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  throw new Error('no free loopback port');
}
