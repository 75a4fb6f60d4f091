/**
 * The chaos load generator: submits with idempotency keys and keeps a ledger of what was
 * accepted (I9: a resend must name the same task), cancels a few tasks, watches every
 * accepted task to its end (I8, chaos/task-watches.ts) and follows the output of every
 * streaming task (chaos/output-follows.ts), all on one pool of live graphql-ws connections
 * (chaos/subscribers.ts).
 */
import { createOutputFollows } from './output-follows.ts';
import { sleep } from './random.ts';
import { createSubscriberPool } from './subscribers.ts';
import { createTaskWatches } from './task-watches.ts';

export type { Watch } from './task-watches.ts';

const SUBMIT = 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }';
const CANCEL = 'mutation ($id: ID!) { cancelTask(id: $id) { id } }';

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
  /** Share of new tasks that are streaming tasks (their output is followed). */
  streamShare: number;
  /** Output followers per streaming task: the first from its acceptance, the others join later. */
  followersPerStream: number;
  /** The text of the n-th task; must contain `marker` so provider calls can be attributed, and say whether it streams. */
  content(marker: string, streaming: boolean): string;
  random(): number;
}

export interface Ledger {
  /** idempotency key -> accepted task id. */
  accepted: Map<string, string>;
  /** Keys of streaming tasks. */
  streaming: Set<string>;
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
  const ledger: Ledger = {
    accepted: new Map(),
    streaming: new Set(),
    idempotencyProblems: [],
    submitAttempts: 0,
    submitFailures: 0,
    cancels: 0,
    reconnects: 0,
  };
  const keyOf = new Map<string, string>();
  const inFlight = new Set<Promise<unknown>>();
  let counter = 0;
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  const pick = () => options.servers[Math.floor(options.random() * options.servers.length)]!;
  const pool = createSubscriberPool({ servers: options.servers, count: options.subscribers, random: options.random });
  pool.onReconnect(() => {
    ledger.reconnects += 1;
  });
  const watches = createTaskWatches(pool, options.random);
  const outputs = createOutputFollows(pool, { random: options.random, terminalStateOf: watches.terminalStateOf });

  /** Watches a newly accepted task; follows its output when it streams. */
  function onAccepted(key: string, id: string): void {
    ledger.accepted.set(key, id);
    keyOf.set(id, key);
    watches.watch(id, counter % options.subscribers);
    if (ledger.streaming.has(key)) {
      for (let n = 0; n < options.followersPerStream; n += 1) {
        // The first from the start; the others join mid-stream or after the end.
        outputs.follow(id, (counter + 1 + n) % options.subscribers, n === 0 ? 0 : Math.floor(options.random() * 2500));
      }
    }
    if (options.random() < options.cancelShare) void cancelLater(id);
  }

  async function submit(key: string): Promise<void> {
    const content = options.content(key, ledger.streaming.has(key));
    for (let attempt = 0; attempt < 40 && !pool.isClosed(); attempt += 1) {
      ledger.submitAttempts += 1;
      try {
        const body = await post(pick(), SUBMIT, { input: { content, idempotencyKey: key } }, 5000);
        const id = body.data?.submitTask?.id;
        if (id) {
          const known = ledger.accepted.get(key);
          if (known && known !== id) ledger.idempotencyProblems.push(`I9: key ${key} named ${known}, then ${id}`);
          if (!known) onAccepted(key, id);
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
    for (let attempt = 0; attempt < 5 && !pool.isClosed(); attempt += 1) {
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
      track(submit(keys[Math.floor(options.random() * keys.length)]!));
    } else {
      const key = `chaos-${counter}`;
      if (options.random() < options.streamShare) ledger.streaming.add(key);
      track(submit(key));
    }
    timer = setTimeout(tick, 1000 / options.ratePerSecond);
  }

  return {
    ledger,
    watches: watches.watches,
    outputs: outputs.follows,
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
    pendingWatches: watches.pending,
    pendingOutputs: outputs.pending,
    async close(): Promise<void> {
      running = false;
      clearTimeout(timer);
      await pool.close();
    },
  };
}
