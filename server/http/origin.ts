/**
 * Which browser origins may act on this server outside GraphQL's own CSRF guard: the
 * WebSocket upgrade (nothing like CORS protects a socket) and the operator's POST routes (a
 * plain HTML form could post to them). The server's own origin and CORS_ORIGINS are allowed;
 * clients that are not browsers send no Origin and are let through (authentication arrives
 * with API keys).
 */
export function isAllowedOrigin(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
