/**
 * The operator routes the original service had: per-worker breaker status (open, like the
 * probes: no task data), and a reset (admin scope, audited).
 */
import { ErrorCode, isAppError } from '../../schema/src/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { Scope } from '../auth/scopes.ts';
import type { AuditService } from '../services/audit-service.ts';
import type { WorkerService, WorkerView } from '../services/worker-service.ts';
import { authenticateRequest } from './authenticate.ts';
import type { Routes } from './health-routes.ts';
import { isAllowedOrigin } from './origin.ts';
import { sendJson } from './respond.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The same shape as the GraphQL Worker type. */
function toJson(worker: WorkerView) {
  return {
    id: worker.id,
    alive: worker.alive,
    lastHeartbeatAt: iso(worker.lastHeartbeatAt),
    concurrency: worker.concurrency,
    activeTasks: worker.activeTasks,
    circuit: { ...worker.circuit, openedAt: iso(worker.circuit.openedAt), halfOpenAt: iso(worker.circuit.halfOpenAt) },
  };
}

export interface WorkerRoutesOptions {
  workers: WorkerService;
  authenticator: Authenticator;
  audit: AuditService;
  allowedOrigins: readonly string[];
  logger: Logger;
}

export function createWorkerRoutes({ workers, authenticator, audit, allowedOrigins, logger }: WorkerRoutesOptions): Routes {
  const answer = async (res: Parameters<typeof sendJson>[0], load: () => Promise<WorkerView[]>) => {
    try {
      sendJson(res, 200, { workers: (await load()).map(toJson) });
    } catch (error) {
      if (!isAppError(error)) throw error;
      sendJson(res, 503, { error: 'worker status is unavailable' });
    }
  };
  return {
    '/health/workers': { GET: (_req, res) => answer(res, workers.list) },
    '/health/workers/reset-circuit-breaker': {
      POST: async (req, res) => {
        // The runbook's bare `curl -X POST` (no body, no content type) must keep working, so
        // cross-site requests are stopped without a content-type rule: a browser always sends
        // Origin on a cross-site POST (refused here whatever its body); with keys on, only an
        // admin key in Authorization passes, which no form can send; with keys off, the server
        // answers loopback Host names only (checked before any route).
        if (!isAllowedOrigin(req.headers.origin, req.headers.host, allowedOrigins)) {
          return sendJson(res, 403, { error: 'origin not allowed' });
        }
        const caller = await authenticateRequest(authenticator, req, res);
        if (!caller) return;
        if (!caller.scopes.has(Scope.ADMIN)) {
          return sendJson(res, 403, { errors: [{ message: 'this API key lacks the admin scope', extensions: { code: ErrorCode.FORBIDDEN } }] });
        }
        let outcome = 'failed';
        try {
          await answer(res, async () => {
            const list = await workers.resetCircuits();
            outcome = `workers=${list.length}`;
            return list;
          });
        } finally {
          await audit
            .record(caller, 'POST /health/workers/reset-circuit-breaker', null, outcome)
            .catch((error: Error) => logger.error({ err: error.message }, 'audit record could not be written'));
        }
      },
    },
  };
}
