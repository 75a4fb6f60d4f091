/**
 * Apollo Server on plain node:http (about what @as-integrations would do, without Express):
 * read the body under a size limit, hand the request to Apollo, stream its answer back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import { ErrorCode } from '../../schema/src/errors.ts';
import type { Caller } from '../auth/scopes.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { authenticateRequest } from './authenticate.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { sendJson } from './respond.ts';
import type { RequestTrace, ServerTracing } from '../tracing/server-tracing.ts';

export interface GraphQLHttpOptions {
  apollo: ApolloServer<GraphQLContext>;
  authenticator: Authenticator;
  /** The request's GraphQL context; `request` is its trace scope when tracing is on. */
  context: (caller: Caller, request: RequestTrace | null) => GraphQLContext;
  maxBodyBytes: number;
  /** Traces requests that submit tasks (docs/observability.md); absent when tracing is off. */
  tracing?: ServerTracing | null;
}

class BodyTooLargeError extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function createGraphQLHttpHandler(options: GraphQLHttpOptions) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    // Who is asking comes first: an unknown caller's body is never read.
    const caller = await authenticateRequest(options.authenticator, req, res);
    if (!caller) return;
    let raw: string;
    try {
      raw = await readBody(req, options.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        res.setHeader('connection', 'close');
        sendJson(res, 413, { errors: [{ message: 'request body too large', extensions: { code: ErrorCode.PAYLOAD_TOO_LARGE } }] });
        return;
      }
      throw error;
    }

    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const isJson = (headers.get('content-type') ?? '').toLowerCase().startsWith('application/json');
    let body: unknown = raw;
    if (isJson && raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        sendJson(res, 400, { errors: [{ message: 'request body is not valid JSON', extensions: { code: ErrorCode.BAD_REQUEST } }] });
        return;
      }
    }

    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      headers,
      search: url.search,
      body,
    };
    const request = options.tracing?.startRequest(req) ?? null;
    try {
      const result = await options.apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest,
        context: async () => options.context(caller, request),
      });
      for (const [name, value] of result.headers) res.setHeader(name, value);
      res.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        res.end(result.body.string);
        return;
      }
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    } finally {
      if (request) options.tracing!.endRequest(request, res);
    }
  };
}
