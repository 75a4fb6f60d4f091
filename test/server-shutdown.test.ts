/**
 * Regression (found by the chaos run): a server given SIGTERM while clients kept their
 * keep-alive connections busy never finished stopping, because close() waits for every
 * connection and a busy one never went idle.
 */
import { describe, expect, it } from 'vitest';
import { useSystem } from './support/fixtures.ts';
import { waitFor } from './support/wait-for.ts';

const system = useSystem({ server: false });

describe('server shutdown', () => {
  it('stops within seconds while keep-alive clients keep sending requests', async () => {
    const server = await system.startServer();
    let running = true;
    let answered = 0;
    const clients = Array.from({ length: 5 }, async () => {
      while (running) {
        try {
          const response = await fetch(`${server.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: '{ queueStatus { primary } }' }),
          });
          await response.text();
          answered += 1;
        } catch {
          // The server is gone: what this test waits for. A client's pause before it tries again (not a wait for the system).
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    });
    await waitFor(() => answered > 10, { timeoutMs: 20_000, message: 'the clients to get answers' });
    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(3000);
    running = false;
    await Promise.all(clients);
  });
});
