/** The WebSocket endpoint's own guards: browser origins and subscriptions per connection. */
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { useSystem } from '../../test/support/fixtures.ts';
import { SAMPLE_TEXT, submitTask, subscribe } from '../../test/support/system.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const system = useSystem({ server: { WS_MAX_SUBSCRIPTIONS: '2', CORS_ORIGINS: 'https://ops.example' } });

/** Opens a raw socket with an Origin header; resolves with the HTTP status of a refusal, or 101. */
function upgradeStatus(origin: string | null): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(system.server.wsUrl, 'graphql-transport-ws', origin ? { headers: { Origin: origin } } : {});
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('error', (error) => (error.message.includes('Unexpected server response') ? undefined : reject(error)));
  });
}

describe('WebSocket guards', () => {
  it('refuses browsers from other origins, and lets the app, listed origins and non-browsers in', async () => {
    const { server } = system;
    expect(await upgradeStatus('https://evil.example')).toBe(401);
    expect(await upgradeStatus('null')).toBe(401);
    expect(await upgradeStatus(server.url)).toBe(101);
    expect(await upgradeStatus('https://ops.example')).toBe(101);
    expect(await upgradeStatus(null)).toBe(101);
  });

  it('answers only requests addressed to localhost while authentication is off (DNS rebinding)', async () => {
    const { server } = system;
    const statusFor = (host: string, path = '/graphql') =>
      new Promise<number>((resolve, reject) => {
        const graphql = path === '/graphql';
        const request = httpRequest(`${server.url}${path}`, { method: 'POST', headers: { host, ...(graphql ? { 'content-type': 'application/json' } : {}) } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.once('error', reject);
        request.end(graphql ? JSON.stringify({ query: '{ viewer { tenant } }' }) : undefined);
      });
    expect(await statusFor('evil.example:8000')).toBe(403);
    expect(await statusFor(new URL(server.url).host)).toBe(200);
    expect(await statusFor(`localhost:${new URL(server.url).port}`)).toBe(200);
    // The breaker reset, bare as the runbook's curl sends it: only to a loopback name.
    expect(await statusFor('evil.example:8000', '/health/workers/reset-circuit-breaker')).toBe(403);
    expect(await statusFor(new URL(server.url).host, '/health/workers/reset-circuit-breaker')).toBe(200);
    const upgrade = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', { headers: { host: 'evil.example' } });
      socket.once('open', () => {
        socket.close();
        resolve(101);
      });
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('error', (error) => (error.message.includes('Unexpected server response') ? undefined : reject(error)));
    });
    expect(upgrade).toBe(401);
  });

  it('caps the subscriptions one connection may hold', async () => {
    const task = await submitTask(system.server, SAMPLE_TEXT);
    const client = system.wsClient();
    const query = `subscription ($id: ID!) { taskUpdated(id: $id) { state } }`;
    const open = [1, 2].map(() => subscribe<{ state: string }>(client, query, { id: task.id }, 'taskUpdated'));
    for (const subscription of open) await subscription.waitFor(() => true);
    const third = subscribe(client, query, { id: task.id }, 'taskUpdated');
    await waitFor(() => third.errors.length > 0, { message: 'the third subscription to be refused' });
    expect(JSON.stringify(third.errors)).toMatch(/at most 2 subscriptions/);
    // Closing one makes room again.
    open[0]!.dispose();
    await waitFor(async () => {
      const again = subscribe<{ state: string }>(client, query, { id: task.id }, 'taskUpdated');
      try {
        await again.waitFor(() => true, 500);
        return true;
      } catch {
        return false;
      } finally {
        again.dispose();
      }
    }, { message: 'room for a new subscription' });
  });
});
