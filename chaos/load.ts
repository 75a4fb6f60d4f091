/**
 * The chaos load generator: submits as several tenants, each with its own API key and share
 * of the load (chaos/tenants.ts), priorities mixed, with idempotency keys, and keeps a ledger
 * of what was accepted (I9: a resend must name the same task, as the same tenant), cancels a
 * few tasks, watches every accepted task to its end (I8, chaos/task-watches.ts) and follows
 * the output of every streaming task (chaos/output-follows.ts), all on one pool of live
 * graphql-ws connections (chaos/subscribers.ts), each with a tenant's key.
 */
import { createOutputFollows } from './output-follows.ts';
import { sleep } from './random.ts';
import { createSubscriberPool } from './subscribers.ts';
import { createTaskWatches } from './task-watches.ts';
import { byShare, PRIORITY_SHARES, type ChaosPriority, type ChaosTenant } from './tenants.ts';

export type { Watch } from './task-watches.ts';

const SUBMIT = 'mutation ($input: SubmitTaskInput!) { submitTask(input: $input) { id } }';
const CANCEL = 'mutation ($id: ID!) { cancelTask(id: $id) { id } }';

export interface LoadOptions {
  /** Base URLs of the API servers (http://host:port), alive or not. */
  servers: readonly string[];
  /** New submissions per second. */
  ratePerSecond: number;
  /** Who submits, with what share of the new submissions. */
  tenants: readonly ChaosTenant[];
  /**
   * Live graphql-ws connections (at least one per tenant), each with the key of tenant
   * `index % tenants.length`; a tenant's tasks are spread over its own connections.
   */
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
  /** idempotency key -> the tenant that submits it (every key, accepted or not). */
  tenantOf: Map<string, string>;
  /** idempotency key -> the priority it was submitted with. */
  priorityOf: Map<string, ChaosPriority>;
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

/** One GraphQL request to the server at `url` as the holder of `apiKey`; throws on a network failure or timeout. */
export async function post(url: string, apiKey: string, query: string, variables: Record<string, unknown>, timeoutMs: number) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return (await response.json()) as { data?: Record<string, { id: string } | null> | null; errors?: { message?: string; extensions?: { code?: string } }[] };
}

export type ChaosLoad = ReturnType<typeof createChaosLoad>;

export function createChaosLoad(options: LoadOptions) {
  const ledger: Ledger = {
    accepted: new Map(),
    tenantOf: new Map(),
    priorityOf: new Map(),
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
  const { tenants } = options;
  if (options.subscribers < tenants.length) throw new Error(`${options.subscribers} subscribers cannot give each of ${tenants.length} tenants a connection`);
  const tenantByName = new Map(tenants.map((tenant, index) => [tenant.name, { ...tenant, index }]));
  const tenantOfKey = (key: string) => tenantByName.get(ledger.tenantOf.get(key)!)!;
  /** The `n`-th connection of the tenant that submitted `key` (connections go round the tenants). */
  const connectionOf = (key: string, n: number) => {
    const perTenant = Math.floor(options.subscribers / tenants.length);
    return tenantOfKey(key).index + tenants.length * (n % perTenant);
  };
  const pool = createSubscriberPool({ servers: options.servers, count: options.subscribers, keyOf: (index) => tenants[index % tenants.length]!.key, random: options.random });
  pool.onReconnect(() => {
    ledger.reconnects += 1;
  });
  const watches = createTaskWatches(pool, options.random);
  const outputs = createOutputFollows(pool, { random: options.random, terminalStateOf: watches.terminalStateOf });

  /** Watches a newly accepted task; follows its output when it streams. */
  function onAccepted(key: string, id: string): void {
    ledger.accepted.set(key, id);
    keyOf.set(id, key);
    watches.watch(id, connectionOf(key, counter));
    if (ledger.streaming.has(key)) {
      for (let n = 0; n < options.followersPerStream; n += 1) {
        // The first from the start; the others join mid-stream or after the end.
        outputs.follow(id, connectionOf(key, counter + 1 + n), n === 0 ? 0 : Math.floor(options.random() * 2500));
      }
    }
    if (options.random() < options.cancelShare) void cancelLater(id, tenantOfKey(key).key);
  }

  async function submit(key: string): Promise<void> {
    const content = options.content(key, ledger.streaming.has(key));
    const input = { content, idempotencyKey: key, priority: ledger.priorityOf.get(key) };
    const apiKey = tenantOfKey(key).key;
    for (let attempt = 0; attempt < 40 && !pool.isClosed(); attempt += 1) {
      ledger.submitAttempts += 1;
      try {
        const body = await post(pick(), apiKey, SUBMIT, { input }, 5000);
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

  async function cancelLater(id: string, apiKey: string): Promise<void> {
    await sleep(options.random() * 500);
    for (let attempt = 0; attempt < 5 && !pool.isClosed(); attempt += 1) {
      try {
        const body = await post(pick(), apiKey, CANCEL, { id }, 5000);
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
      ledger.tenantOf.set(key, byShare(tenants, options.random()).name);
      ledger.priorityOf.set(key, byShare(PRIORITY_SHARES, options.random()).priority);
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
