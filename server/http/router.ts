/**
 * Which handler answers a request: the REST routes, `/graphql` over HTTP (once Apollo has
 * started), the bundled GraphiQL under `/graphiql`, then the web app's files; 404 otherwise.
 * While authentication is off, only requests addressed to a loopback name are answered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { createGraphQLHttpHandler } from './graphql-http.ts';
import type { Routes } from './health-routes.ts';
import { isLoopbackHostHeader } from './origin.ts';
import { sendJson } from './respond.ts';
import type { createStaticHandler } from './static-files.ts';

const GRAPHIQL_PATH = '/graphiql';

type StaticHandler = ReturnType<typeof createStaticHandler>;

export interface RouterOptions {
  routes: Routes;
  /** Answer only loopback Host names (authentication off: DNS rebinding). */
  loopbackOnly: boolean;
  /** The HTTP GraphQL handler, or null before Apollo has started. */
  graphql: () => ReturnType<typeof createGraphQLHttpHandler> | null;
  graphiql: StaticHandler | null;
  webApp: StaticHandler | null;
}

export function createRouter(options: RouterOptions) {
  return async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (options.loopbackOnly && !isLoopbackHostHeader(req.headers.host)) {
      return sendJson(res, 403, { error: 'authentication is off: this server answers only requests addressed to localhost' });
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = options.routes[url.pathname];
    if (route) {
      const handler = req.method === 'HEAD' ? route.GET : route[req.method as 'GET' | 'POST'];
      if (handler) return handler(req, res);
      res.setHeader('allow', Object.keys(route).join(', '));
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    const graphql = options.graphql();
    if (url.pathname === '/graphql' && graphql) return graphql(req, res, url);
    if (options.graphiql && (url.pathname === GRAPHIQL_PATH || url.pathname.startsWith(`${GRAPHIQL_PATH}/`))) {
      const inner = new URL(url.pathname.slice(GRAPHIQL_PATH.length) || '/', url);
      if (await options.graphiql(req, res, inner)) return;
    }
    if (options.webApp && (await options.webApp(req, res, url))) return;
    sendJson(res, 404, { error: 'not found' });
  };
}
