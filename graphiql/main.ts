/**
 * The bundled GraphiQL served at /graphiql: everything it needs is in this build, so it works
 * with no internet access. Queries and mutations go over HTTP POST; subscriptions over
 * graphql-ws on the same /graphql path. An API key saved by the web client (same origin) is
 * sent both ways.
 */
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/graphiql.css';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';

/** Where the web client keeps the operator's API key. */
const API_KEY_STORAGE = 'atf.apiKey';

const apiKey = localStorage.getItem(API_KEY_STORAGE);
const authorization = apiKey ? `Bearer ${apiKey}` : undefined;
const origin = window.location.origin;

const fetcher = createGraphiQLFetcher({
  url: `${origin}/graphql`,
  subscriptionUrl: `${origin.replace(/^http/, 'ws')}/graphql`,
  headers: authorization ? { authorization } : {},
  wsConnectionParams: authorization ? { authorization } : {},
});

const defaultQuery = `# Welcome to the AsyncTaskFlow API. Try:
mutation Submit {
  submitTask(input: { content: "A long text to summarize." }) { id state version }
}

# then, in another tab, watch it live:
# subscription Watch { taskUpdated(id: "<id>") { id state version progress result } }
`;

// A link can carry the operation to open: /graphiql?query=...&variables=...
const params = new URLSearchParams(window.location.search);
const query = params.get('query') ?? undefined;
const variables = params.get('variables') ?? undefined;

createRoot(document.getElementById('graphiql')!).render(
  createElement(GraphiQL, { fetcher, defaultQuery, query, variables, shouldPersistHeaders: false }),
);
