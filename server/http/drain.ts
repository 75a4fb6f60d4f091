/**
 * In-flight HTTP requests, for a shutdown that lets them finish. WebSocket upgrades are not
 * requests here: they are closed separately (close code 1001).
 */
import type { Server, ServerResponse } from 'node:http';

export interface HttpDrain {
  /** Requests whose response has not finished yet. */
  inFlight(): number;
  /**
   * From now on responses carry `Connection: close`, so keep-alive clients do not reuse their
   * socket; the server stops accepting connections and idle ones are closed. Resolves true
   * once no request is in flight, false when `graceMs` ran out first.
   */
  drain(graceMs: number): Promise<boolean>;
}

export function createHttpDrain(httpServer: Server): HttpDrain {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  const idleWaiters = new Set<() => void>();
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };

  httpServer.on('request', (_req, res) => {
    inFlight.add(res);
    if (draining) closeAfter(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (inFlight.size === 0) idleWaiters.forEach((resolve) => resolve());
    });
  });

  return {
    inFlight: () => inFlight.size,
    async drain(graceMs) {
      draining = true;
      inFlight.forEach(closeAfter);
      // Stops listening; the callback (all connections gone) is awaited by the caller's own close.
      if (httpServer.listening) httpServer.close();
      httpServer.closeIdleConnections();
      if (inFlight.size === 0) return true;
      return new Promise<boolean>((resolve) => {
        const done = (drained: boolean) => {
          clearTimeout(timer);
          idleWaiters.delete(onIdle);
          resolve(drained);
        };
        const onIdle = () => done(true);
        const timer = setTimeout(() => done(false), graceMs);
        idleWaiters.add(onIdle);
      });
    },
  };
}
