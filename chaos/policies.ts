/**
 * Policy events of a chaos run: at random times (seeded) an admin sets a tenant's weight
 * (1-5), its cap (1-4 or none), or pauses it for a few seconds, through `setTenantPolicy` over
 * HTTP on either server, resending until one answers. Changes go one at a time, so each is
 * answered before the next is sent: the audit knows which policy could be in force at any
 * moment (chaos/cap-audit.ts, chaos/starvation-audit.ts). When the run ends every tenant is
 * resumed and its cap lifted, so every task can finish.
 */
import { post } from './load.ts';
import { sleep } from './random.ts';

/** Weights go from 1 to this; caps from 1 to MAX_CAP, or none. */
export const MAX_WEIGHT = 5;
export const MAX_CAP = 4;

const SET_POLICY = 'mutation ($tenant: String!, $input: TenantPolicyInput!) { setTenantPolicy(tenant: $tenant, input: $input) { tenant } }';

export type PolicyKind = 'weight' | 'cap' | 'pause' | 'resume' | 'lift';

export interface PolicyInput {
  weight?: number;
  /** null removes the cap. */
  maxConcurrency?: number | null;
  paused?: boolean;
}

/** One change an admin made, with when it was sent and answered (epoch ms, this machine's clock, as Redis'). */
export interface PolicyChange {
  kind: PolicyKind;
  tenant: string;
  input: PolicyInput;
  /** When the first request went out: the change may be in force from then on. */
  sentAt: number;
  /** When a server answered: in force by then. Null: never answered (it may or may not be in force). */
  answeredAt: number | null;
}

export interface PolicyEventOptions {
  servers: readonly string[];
  adminKey: string;
  tenants: readonly string[];
  /** Mean pause between two events (each pause is 0.5-1.5 times it). */
  everyMs: number;
  /** How long a tenant stays paused: from `pauseMs[0]` to `pauseMs[1]`. */
  pauseMs: readonly [number, number];
  random(): number;
  log(line: string): void;
}

export interface PolicyEvents {
  /** Every change so far, in the order sent (the order they took effect in). */
  changes: readonly PolicyChange[];
  /** How many of each kind were sent. */
  counts(): Record<PolicyKind, number>;
  /** Stops the events, then resumes every tenant and lifts its cap (weights stay); resolves once answered. */
  stop(): Promise<void>;
  /** Stops the events and sends nothing more (a run that failed). */
  close(): void;
}

/** Starts the events at once; they run until `stop()`. */
export function startPolicyEvents(options: PolicyEventOptions): PolicyEvents {
  const { random, log } = options;
  const changes: PolicyChange[] = [];
  const paused = new Set<string>();
  const resumes = new Set<NodeJS.Timeout>();
  let stopped = false;
  // One change at a time: the next is sent once the last one was answered (or given up).
  let chain: Promise<void> = Promise.resolve();

  const apply = (kind: PolicyKind, tenant: string, input: PolicyInput): Promise<void> => {
    chain = chain.then(() => send(kind, tenant, input));
    return chain;
  };

  async function send(kind: PolicyKind, tenant: string, input: PolicyInput): Promise<void> {
    const change: PolicyChange = { kind, tenant, input, sentAt: Date.now(), answeredAt: null };
    changes.push(change);
    for (let attempt = 0; attempt < 60; attempt += 1) {
      const server = options.servers[Math.floor(random() * options.servers.length)]!;
      try {
        const body = await post(server, options.adminKey, SET_POLICY, { tenant, input }, 5000);
        if (body.data?.setTenantPolicy) {
          change.answeredAt = Date.now();
          return;
        }
        // UNAVAILABLE while Redis restarts is expected; anything else is a bug of the run.
        const code = body.errors?.[0]?.extensions?.code;
        if (code !== 'UNAVAILABLE' && code !== 'INTERNAL_SERVER_ERROR') log(`chaos: policy ${kind} of ${tenant} refused: ${JSON.stringify(body.errors)}`);
      } catch {
        // The server died mid-request, or timed out: send it again.
      }
      await sleep(150 + random() * 350);
    }
    log(`chaos: policy ${kind} of ${tenant} (${JSON.stringify(input)}) never answered`);
  }

  function next(): void {
    const tenant = options.tenants[Math.floor(random() * options.tenants.length)]!;
    const roll = random();
    if (roll < 1 / 3) {
      void apply('weight', tenant, { weight: 1 + Math.floor(random() * MAX_WEIGHT) });
    } else if (roll < 2 / 3) {
      const cap = Math.floor(random() * (MAX_CAP + 1));
      void apply('cap', tenant, { maxConcurrency: cap === 0 ? null : cap });
    } else if (!paused.has(tenant)) {
      paused.add(tenant);
      void apply('pause', tenant, { paused: true });
      const [shortest, longest] = options.pauseMs;
      const timer = setTimeout(() => {
        resumes.delete(timer);
        paused.delete(tenant);
        void apply('resume', tenant, { paused: false });
      }, shortest + random() * (longest - shortest));
      resumes.add(timer);
    }
  }

  function close(): void {
    stopped = true;
    for (const timer of resumes) clearTimeout(timer);
    resumes.clear();
  }

  const loop = (async () => {
    while (!stopped) {
      await sleep(options.everyMs * (0.5 + random()));
      if (!stopped) next();
    }
  })();

  return {
    changes,
    counts() {
      const counts: Record<PolicyKind, number> = { weight: 0, cap: 0, pause: 0, resume: 0, lift: 0 };
      for (const change of changes) counts[change.kind] += 1;
      return counts;
    },
    close,
    async stop() {
      close();
      await loop;
      for (const tenant of options.tenants) void apply('lift', tenant, { paused: false, maxConcurrency: null });
      await chain;
    },
  };
}
