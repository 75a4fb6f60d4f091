/** Kubernetes and operator probes: /live, /ready, /health. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthService } from '../services/health-service.ts';
import { sendJson } from './respond.ts';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
/** Path -> method -> handler. */
export type Routes = Record<string, Partial<Record<'GET' | 'POST', RouteHandler>>>;

export function createHealthRoutes(health: HealthService): Routes {
  return {
    // Liveness never touches Redis: a Redis outage must not get healthy pods restarted.
    '/live': { GET: (_req, res) => sendJson(res, 200, { status: 'alive' }) },
    '/ready': {
      GET: async (_req, res) => {
        const ready = await health.isReady();
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' });
      },
    },
    // Always 200: the body says what is wrong, for people and dashboards.
    '/health': { GET: async (_req, res) => sendJson(res, 200, await health.report()) },
  };
}
