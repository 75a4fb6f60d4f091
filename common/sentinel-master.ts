/**
 * Where the Redis master is, as Sentinel says, for connections that cannot ask Sentinel
 * themselves: bee-queue bundles node_redis v3, which has no Sentinel support.
 *
 * One tracker per Sentinel deployment and process, shared by every bee-queue Queue and
 * started while at least one holds it. It asks the Sentinel nodes (in turn, until one
 * answers) `SENTINEL get-master-addr-by-name` every `pollMs` and whenever a connection
 * reconnects. When the master moves, every attached node_redis connection still on the old
 * address is closed, so it reconnects (common/bee-queue.ts makes each reconnect read
 * `current()`). Sentinel also kills the clients of a demoted master; this does not rely on it.
 */
import { Redis } from 'ioredis';

export interface SentinelSettings {
  /** The master name Sentinel monitors (`sentinel monitor <name> ...`). */
  name: string;
  nodes: { host: string; port: number }[];
  /** The Sentinel nodes' own password, when they have one. */
  password?: string;
}

export interface MasterAddress {
  host: string;
  port: number;
}

/** The parts of a node_redis v3 client the tracker touches. */
export interface NodeRedisConnection {
  connection_options: { host?: string; port?: number };
  closing: boolean;
  stream?: { destroy(): void };
  once(event: 'end', listener: () => void): unknown;
}

export interface SentinelMaster {
  /** The master as last seen, or null before the first answer. */
  current(): MasterAddress | null;
  /** Resolves with the master once a Sentinel has named it (retries forever until then). */
  ready(): Promise<MasterAddress>;
  /** Asks the Sentinels now (debounced); a reconnecting connection calls this. */
  refresh(): void;
  /** Follows `connection`: closed when the master moves away from its address. */
  attach(connection: NodeRedisConnection): void;
  /** Told on every change of master (logs). */
  onChange(listener: (master: MasterAddress) => void): () => void;
}

interface Entry {
  settings: SentinelSettings;
  holders: number;
  tracker: (SentinelMaster & { stop(): void }) | null;
}

const registry = new Map<string, Entry>();

/** Default interval between two Sentinel queries. */
export const SENTINEL_POLL_MS = 1000;

/** Records the settings and returns the key node_redis options carry (a plain string survives its option cloning). */
export function registerSentinel(settings: SentinelSettings): string {
  const key = `${settings.name}@${settings.nodes.map((node) => `${node.host}:${node.port}`).join(',')}`;
  if (!registry.has(key)) registry.set(key, { settings, holders: 0, tracker: null });
  return key;
}

/** Takes a hold on the tracker for `key` (starting it); `release` stops it with the last hold. */
export function acquireSentinelMaster(key: string): { master: SentinelMaster; release(): void } {
  const entry = registry.get(key);
  if (!entry) throw new Error(`unknown Sentinel deployment ${key}`);
  entry.holders += 1;
  entry.tracker ??= createTracker(entry.settings, SENTINEL_POLL_MS);
  const master = entry.tracker;
  let released = false;
  return {
    master,
    release() {
      if (released) return;
      released = true;
      entry.holders -= 1;
      if (entry.holders === 0 && entry.tracker) {
        entry.tracker.stop();
        entry.tracker = null;
      }
    },
  };
}

/** The running tracker for `key`, if any (node_redis connections look theirs up on reconnect). */
export function sentinelMasterFor(key: string): SentinelMaster | null {
  return registry.get(key)?.tracker ?? null;
}

function createTracker(settings: SentinelSettings, pollMs: number): SentinelMaster & { stop(): void } {
  let master: MasterAddress | null = null;
  let stopped = false;
  let asking: Promise<void> | null = null;
  let nodeIndex = 0;
  const clients = new Map<number, Redis>();
  const connections = new Set<NodeRedisConnection>();
  const listeners = new Set<(master: MasterAddress) => void>();
  const waiters: ((master: MasterAddress) => void)[] = [];

  const sentinelClient = (index: number): Redis => {
    let client = clients.get(index);
    if (!client) {
      const node = settings.nodes[index]!;
      client = new Redis({
        host: node.host,
        port: node.port,
        ...(settings.password ? { password: settings.password } : {}),
        connectionName: 'atf-sentinel-watch',
        lazyConnect: true,
        enableOfflineQueue: true,
        maxRetriesPerRequest: 0,
        commandTimeout: 1000,
        connectTimeout: 1000,
        retryStrategy: (times) => Math.min(100 * times, 2000),
      });
      client.on('error', () => undefined);
      clients.set(index, client);
    }
    return client;
  };

  function moveTo(next: MasterAddress): void {
    if (master && master.host === next.host && master.port === next.port) return;
    const first = master === null;
    master = next;
    waiters.splice(0).forEach((resolve) => resolve(next));
    if (!first) listeners.forEach((listener) => listener(next));
    // Connections still on the old master reconnect, and so find the new one.
    for (const connection of connections) {
      const { host, port } = connection.connection_options;
      if (!connection.closing && (host !== next.host || port !== next.port)) connection.stream?.destroy();
    }
  }

  /** Asks each Sentinel in turn, starting with the one that answered last, until one names the master. */
  async function ask(): Promise<void> {
    for (let tried = 0; tried < settings.nodes.length && !stopped; tried += 1) {
      const index = (nodeIndex + tried) % settings.nodes.length;
      try {
        const client = sentinelClient(index);
        if (client.status === 'wait') await client.connect();
        const reply = (await client.call('SENTINEL', 'get-master-addr-by-name', settings.name)) as [string, string] | null;
        if (!reply) continue;
        nodeIndex = index;
        moveTo({ host: reply[0], port: Number(reply[1]) });
        return;
      } catch {
        // This Sentinel is down or does not know the master: ask the next.
      }
    }
  }

  const refresh = () => {
    if (stopped || asking) return;
    asking = ask().finally(() => {
      asking = null;
    });
  };
  const timer = setInterval(refresh, pollMs);
  timer.unref();
  refresh();

  return {
    current: () => master,
    ready: () => (master ? Promise.resolve(master) : new Promise((resolve) => waiters.push(resolve))),
    refresh,
    attach(connection) {
      if (connections.has(connection)) return;
      connections.add(connection);
      connection.once('end', () => connections.delete(connection));
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      connections.clear();
      for (const client of clients.values()) client.disconnect();
      clients.clear();
    },
  };
}
