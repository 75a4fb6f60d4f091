/**
 * The HTTP and WebSocket front of the bench's comparison pipelines (the naive baseline and the
 * BullMQ peer): Apollo Server 5 has no HTTP server of its own that can share a port with
 * graphql-ws, so these are the usual few lines around executeHTTPGraphQLRequest (Apollo's docs,
 * "Building integrations"), with graphql-ws on the same /graphql path. Bench-only.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

/** Serves `apollo` and `schema`'s subscriptions on 127.0.0.1:PORT (0: any), and logs `{ msg: '<name> listening', port }`. */
export function serveApolloOnNodeHttp(apollo: ApolloServer, schema: GraphQLSchema, name: string): void {
  const httpServer = createServer((req, res) => {
    void (async () => {
      if (!req.url?.startsWith('/graphql')) {
        res.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
      const headers = new HeaderMap();
      for (const [header, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(header, value);
      const raw = Buffer.concat(chunks).toString('utf8');
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: new URL(req.url, 'http://localhost').search, body: raw ? JSON.parse(raw) : undefined },
        context: async () => ({}),
      });
      for (const [header, value] of result.headers) res.setHeader(header, value);
      res.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        res.end(result.body.string);
        return;
      }
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    })().catch(() => res.destroy());
  });
  useServer({ schema }, new WebSocketServer({ server: httpServer, path: '/graphql' }));
  httpServer.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    console.log(JSON.stringify({ msg: `${name} listening`, port: (httpServer.address() as AddressInfo).port }));
  });
}
