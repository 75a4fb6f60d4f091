/**
 * The bundled GraphiQL served at /graphiql: everything it needs is in this build, so it works
 * with no internet access. Queries and mutations go over HTTP POST; subscriptions over
 * graphql-ws on the same /graphql path.
 *
 * The API key: the bar above GraphiQL takes one and keeps it in this tab's session storage;
 * without one, the key the web client saved (same origin) is used. It is sent both ways, as the
 * web client does. A production server shows its schema (docs, autocomplete, checking) only to
 * key holders (GRAPHQL_INTROSPECTION=keys): when it refuses the schema for want of a key, the
 * bar shows its answer and says how to get one.
 */
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/graphiql.css';
import { createElement, useState, useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';

/** This page's key: session storage, so it lives as long as the tab. */
const SESSION_KEY_STORAGE = 'atf.graphiql.apiKey';
/** Where the web client keeps the operator's key (local storage). */
const WEB_APP_KEY_STORAGE = 'atf.apiKey';

type KeySource = 'this tab' | 'the web app';

function read(storage: () => Storage, name: string): string | null {
  try {
    return storage().getItem(name);
  } catch {
    // Storage can be off (private modes, policies): then there is no saved key.
    return null;
  }
}

function storedKey(): { key: string; source: KeySource } | null {
  const session = read(() => window.sessionStorage, SESSION_KEY_STORAGE);
  if (session) return { key: session, source: 'this tab' };
  const webApp = read(() => window.localStorage, WEB_APP_KEY_STORAGE);
  return webApp ? { key: webApp, source: 'the web app' } : null;
}

/** Saves (or, with null, forgets) this tab's key and loads the page again, so the schema is fetched with it. */
function changeKey(key: string | null): void {
  try {
    if (key) window.sessionStorage.setItem(SESSION_KEY_STORAGE, key);
    else window.sessionStorage.removeItem(SESSION_KEY_STORAGE);
  } catch {
    // Nowhere to keep it: the reload below then runs without a key, and the bar says so.
  }
  window.location.reload();
}

const given = storedKey();
const authorization = given ? `Bearer ${given.key}` : undefined;
const origin = window.location.origin;
const graphqlUrl = `${origin}/graphql`;
const headers: Record<string, string> = authorization ? { authorization } : {};

/** What the last introspection answer was: not in yet, the schema, or the server's refusal. */
type SchemaAnswer = { state: 'pending' } | { state: 'shown' } | { state: 'refused'; code: string | undefined; message: string };
let schemaAnswer: SchemaAnswer = { state: 'pending' };
const schemaListeners = new Set<() => void>();
const schemaStore = {
  subscribe(listener: () => void) {
    schemaListeners.add(listener);
    return () => schemaListeners.delete(listener);
  },
  get: () => schemaAnswer,
};

/** GraphiQL's introspection request, its answer reported to the key bar. */
const schemaFetcher: Fetcher = async (params, options) => {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers, ...(options?.headers ?? {}) },
    body: JSON.stringify(params),
  });
  const result = (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
  const error = result.errors?.[0];
  schemaAnswer = error ? { state: 'refused', code: error.extensions?.code, message: error.message } : { state: 'shown' };
  schemaListeners.forEach((listener) => listener());
  return result;
};

const fetcher = createGraphiQLFetcher({
  url: graphqlUrl,
  subscriptionUrl: `${origin.replace(/^http/, 'ws')}/graphql`,
  headers,
  wsConnectionParams: headers,
  schemaFetcher,
});

/** What the bar says: which key is sent, or why the schema was refused; and whether to say how to get a key. */
function status(answer: SchemaAnswer): { text: string; howToGetAKey: boolean } {
  if (answer.state === 'refused') {
    if (answer.code !== 'UNAUTHENTICATED') return { text: `The server did not show its schema. It says: ${answer.message}`, howToGetAKey: false };
    const lead = given ? 'The server refused this key.' : 'The schema (docs, autocomplete) needs an API key.';
    return { text: `${lead} The server says: ${answer.message}`, howToGetAKey: true };
  }
  if (given?.source === 'this tab') return { text: 'Sending the API key given in this tab (kept until the tab closes).', howToGetAKey: false };
  if (given) return { text: 'Sending the API key the web app saved.', howToGetAKey: false };
  return { text: answer.state === 'shown' ? 'No API key given; this server shows its schema without one.' : 'No API key given.', howToGetAKey: false };
}

function KeyBar() {
  const { text, howToGetAKey } = status(useSyncExternalStore(schemaStore.subscribe, schemaStore.get));
  const [draft, setDraft] = useState('');
  const submit = (event: { preventDefault(): void }) => {
    event.preventDefault();
    if (draft.trim()) changeKey(draft.trim());
  };
  return createElement(
    'form',
    { id: 'api-key-bar', onSubmit: submit },
    createElement('label', { htmlFor: 'api-key-input' }, 'API key'),
    createElement('input', {
      id: 'api-key-input',
      type: 'password',
      autoComplete: 'off',
      placeholder: given ? 'another key' : 'paste a key',
      value: draft,
      onChange: (event: { target: { value: string } }) => setDraft(event.target.value),
    }),
    createElement('button', { id: 'api-key-use', type: 'submit', disabled: !draft.trim() }, 'Use key'),
    given?.source === 'this tab' ? createElement('button', { id: 'api-key-forget', type: 'button', onClick: () => changeKey(null) }, 'Forget key') : null,
    createElement('span', { id: 'api-key-status', role: 'status' }, text),
    howToGetAKey ? createElement('span', { id: 'api-key-hint' }, 'An operator makes one with ', createElement('code', null, 'npm run keys'), '.') : null,
  );
}

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

createRoot(document.getElementById('root')!).render(
  createElement(
    'div',
    { id: 'layout' },
    createElement(KeyBar),
    createElement('div', { id: 'graphiql' }, createElement(GraphiQL, { fetcher, defaultQuery, query, variables, shouldPersistHeaders: false })),
  ),
);
