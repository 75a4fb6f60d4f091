/**
 * Authentication of an HTTP request: the Caller, or an answer already sent (401 for a
 * missing, unknown or revoked key, all with the same body; 503 when keys cannot be checked).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../../schema/src/errors.ts';
import { bearerKey } from '../auth/api-keys.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { Caller } from '../auth/scopes.ts';
import { sendJson } from './respond.ts';

export const UNAUTHENTICATED_BODY = {
  errors: [{ message: 'missing or invalid API key: send Authorization: Bearer <key>', extensions: { code: ErrorCode.UNAUTHENTICATED } }],
};

export async function authenticateRequest(authenticator: Authenticator, req: IncomingMessage, res: ServerResponse): Promise<Caller | null> {
  let caller: Caller | null;
  try {
    caller = await authenticator.authenticate(bearerKey(req.headers.authorization));
  } catch {
    res.setHeader('retry-after', '1');
    sendJson(res, 503, { errors: [{ message: 'the server cannot check API keys right now; try again', extensions: { code: ErrorCode.UNAVAILABLE } }] });
    return null;
  }
  if (caller) return caller;
  res.setHeader('www-authenticate', 'Bearer');
  res.setHeader('connection', 'close');
  sendJson(res, 401, UNAUTHENTICATED_BODY);
  return null;
}
