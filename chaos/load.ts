/**
 * The chaos load generator: submits with idempotency keys and keeps a ledger of what was
 * accepted (I9: a resend must name the same task), cancels a few tasks, and runs live
 * subscribers that watch every accepted task to its end (I8) across reconnects: graphql-ws
 * reconnects to whichever API server answers, and re-subscribes with `afterVersion` set to
 * the last version seen, so a watch resumes rather than restarts.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const TERMINAL = new Set(['COMPLETED', 'DLQ', 'CANCELLED']);

const SUBMIT = 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }';
const CANCEL = 'mutation ($id: ID!) { cancelTask(id: $id) { id } }';
const WATCH = 'subscription ($id: ID!, $afterVersion: Int) { taskUpdated(id: $id, afterVersion: $afterVersion) { id state version } }';

export interface LoadOptions {
  /** Base URLs of the API servers (http://host:port), alive or not. */
  servers: readonly string[];
  /** New submissions per second. */
  ratePerSecond: number;
  /** Live graphql-ws connections; accepted tasks are spread over them. */
  subscribers: number;
  /** Share of accepted tasks an "operator" cancels. */
  cancelShare: number;
  /** Share of submissions that resend an accepted key (must return the same id). */
  resendShare: number;
  /** The text of the n-th task; must contain `marker` so provider calls can be attributed. */
  content(marker: string): string;
  random(): number;
}

/** What one subscriber saw of one task. */
export interface Watch {
  taskId: string;
  subscriber: number;
  /** version -> state, after de-duplication by version. */
  seen: Map<number, string>;
  duplicates: number;
  /** Versions that arrived below one already seen (after de-duplication, order must hold). */
  outOfOrder: number;
  resubscribes: number;
  done: boolean;
}

export interface Ledger {
  /** idempotency key -> accepted task id. */
  accepted: Map<string, string>;
  /** Keys whose resend named another task, or came back as a conflict. */
  idempotencyProblems: string[];
  submitAttempts: number;
  submitFailures: number;
  cancels: number;
  /** Subscriber connections that came back after losing their server. */
  reconnects: number;
}

async function post(url: string, query: string, variables: Record<string, unknown>, timeoutMs: number) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return (await response.json()) as { data?: Record<string, { id: string } | null> | null; errors?: { extensions?: { code?: string } }[] };
}

export type ChaosLoad = ReturnType<typeof createChaosLoad>;

export function createChaosLoad(options: LoadOptions) {
  const ledger: Ledger = { accepted: new Map(), idempotencyProblems: [], submitAttempts: 0, submitFailures: 0, cancels: 0, reconnects: 0 };
  const watches = new Map<string, Watch>();
  const keyOf = new Map<string, string>();
  const inFlight = new Set<Promise<unknown>>();
  let counter = 0;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const pick = () => options.servers[Math.floor(options.random() * options.servers.length)]!;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const clients: Client[] = Array.from({ length: options.subscribers }, (_, index) => {
    let attempt = index;
    return createClient({
      // Each (re)connect tries the next server: a dead one fails fast, the other answers.
      url: () => options.servers[attempt++ % options.servers.length]!.replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: Infinity,
      retryWait: async () => {
        await sleep(100 + options.random() * 400);
      },
      shouldRetry: () => !closed,
      onNonLazyError: () => undefined,
      on: {
        connected: (_socket, _payload, wasRetry) => {
          if (wasRetry) ledger.reconnects += 1;
        },
      },
    });
  });

  /** Watches `taskId` on subscriber `index` until it sees a terminal state. */
  function watch(taskId: string, index: number): void {
    const record: Watch = { taskId, subscriber: index, seen: new Map(), duplicates: 0, outOfOrder: 0, resubscribes: 0, done: false };
    watches.set(taskId, record);
    // graphql-ws re-sends this same payload object after a reconnect: keeping afterVersion
    // current in it makes every re-subscription resume after the last version seen.
    const variables: { id: string; afterVersion: number | null } = { id: taskId, afterVersion: null };
    let last = 0;
    const subscribe = () => {
      if (closed || record.done) return;
      let dispose: () => void = () => undefined;
      let ended = false;
      const again = () => {
        if (ended) return;
        ended = true;
        if (!record.done && !closed) {
          record.resubscribes += 1;
          setTimeout(subscribe, 200 + options.random() * 300);
        }
      };
      dispose = clients[index]!.subscribe<{ taskUpdated: { id: string; state: string; version: number } }>(
        { query: WATCH, variables },
        {
          next: (result) => {
            const task = result.data?.taskUpdated;
            if (!task) return;
            if (record.seen.has(task.version)) {
              record.duplicates += 1;
              return;
            }
            if (task.version < last) record.outOfOrder += 1;
            record.seen.set(task.version, task.state);
            last = Math.max(last, task.version);
            variables.afterVersion = last;
            if (TERMINAL.has(task.state)) {
              record.done = true;
              ended = true;
              dispose();
            }
          },
          // An error (say UNAVAILABLE while Redis restarts) or an end before the terminal state.
          error: again,
          complete: again,
        },
      );
    };
    subscribe();
  }

  async function submit(key: string, marker: string): Promise<void> {
    const content = options.content(marker);
    for (let attempt = 0; attempt < 40 && !closed; attempt += 1) {
      ledger.submitAttempts += 1;
      try {
        const body = await post(pick(), SUBMIT, { input: { content, idempotencyKey: key } }, 5000);
        const id = body.data?.submitTask?.id;
        if (id) {
          const known = ledger.accepted.get(key);
          if (known && known !== id) ledger.idempotencyProblems.push(`I9: key ${key} named ${known}, then ${id}`);
          if (!known) {
            ledger.accepted.set(key, id);
            keyOf.set(id, key);
            watch(id, counter % options.subscribers);
            if (options.random() < options.cancelShare) void cancelLater(id);
          }
          return;
        }
        if (body.errors?.[0]?.extensions?.code === 'CONFLICT') {
          ledger.idempotencyProblems.push(`I9: key ${key} answered CONFLICT for its own content`);
          return;
        }
      } catch {
        // The server died mid-request, or timed out: resend the same key.
      }
      await sleep(150 + options.random() * 350);
    }
    ledger.submitFailures += 1;
  }

  async function cancelLater(id: string): Promise<void> {
    await sleep(options.random() * 500);
    for (let attempt = 0; attempt < 5 && !closed; attempt += 1) {
      try {
        const body = await post(pick(), CANCEL, { id }, 5000);
        // Cancelled, or it had already ended (CONFLICT): both settle the question.
        if (body.data?.cancelTask || body.errors?.[0]?.extensions?.code === 'CONFLICT') {
          ledger.cancels += 1;
          return;
        }
      } catch {
        // try another server
      }
      await sleep(300);
    }
  }

  function track(promise: Promise<unknown>): void {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise));
  }

  function tick(): void {
    if (!running) return;
    counter += 1;
    const resend = ledger.accepted.size > 0 && options.random() < options.resendShare;
    if (resend) {
      const keys = [...ledger.accepted.keys()];
      const key = keys[Math.floor(options.random() * keys.length)]!;
      track(submit(key, key));
    } else {
      const key = `chaos-${counter}`;
      track(submit(key, key));
    }
    timer = setTimeout(tick, 1000 / options.ratePerSecond);
  }

  return {
    ledger,
    watches,
    keyOf,
    start(): void {
      running = true;
      tick();
    },
    /** Stops submitting and waits for the submissions in flight to settle. */
    async stopSubmitting(): Promise<void> {
      running = false;
      clearTimeout(timer);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    pendingWatches: () => [...watches.values()].filter((w) => !w.done),
    async close(): Promise<void> {
      closed = true;
      running = false;
      clearTimeout(timer);
      await Promise.allSettled(clients.map((client) => client.dispose()));
    },
  };
}
