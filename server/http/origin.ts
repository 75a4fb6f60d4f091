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

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether a Host header names this machine's loopback. While authentication is off the server
 * listens on loopback only, and every caller is an admin: a page on another site could still
 * reach it through DNS rebinding (its name made to resolve to 127.0.0.1), but its requests then
 * carry that name as Host. A request without a Host header is not from a browser.
 */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return true;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return LOOPBACK_NAMES.has(name.toLowerCase()) || name.toLowerCase().endsWith('.localhost');
}
