/**
 * What the peer's server and worker agree on (bench/peer/server.ts, worker.ts): the BullMQ
 * queue's name, its connection, and the update a `taskUpdated` subscriber receives.
 */
import type { ConnectionOptions } from 'bullmq';

/** BullMQ's own key prefix (`bull`) is kept: the peer runs on a redis-server of its own. */
export const PEER_QUEUE = 'peer-tasks';

/** A task as the peer's GraphQL schema shows it: the same fields the bench asks ours for. */
export interface PeerTask {
  id: string;
  state: 'PENDING' | 'ACTIVE' | 'COMPLETED' | 'DLQ';
  version: number;
}

/**
 * BullMQ's connection from REDIS_URL: host and port only, every other ioredis option at its
 * default (BullMQ sets `maxRetriesPerRequest: null` itself on the connections it blocks on).
 */
export function peerConnection(env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  const url = new URL(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  return { host: url.hostname, port: Number(url.port || 6379) };
}
