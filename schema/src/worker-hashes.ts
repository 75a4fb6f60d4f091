/**
 * The small hashes workers write and API servers read, each defined once: how a value is
 * written as Redis strings ('' for "none") and read back, checked. A field that is missing or
 * malformed reads as its default (an older worker, a hand-edited key), never as NaN.
 *
 * The hint channels beside them (a beat, a check, a command: schema/src/channels.ts) are only
 * hints: the hashes are the truth.
 */
import { z } from 'zod';
import { CircuitCommand, CircuitState, type CircuitSnapshot } from './circuit.ts';
import { ProviderState } from './provider-status.ts';

type Hash = Record<string, string>;

/** A number written as a string; '' or anything unreadable is null. */
const optionalNumber = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value === '' || !Number.isFinite(Number(value)) ? null : Number(value)));
const count = optionalNumber.transform((value) => (value === null ? 0 : Math.max(0, Math.trunc(value))));
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value ? value : null));
const written = (value: number | string | null) => (value === null ? '' : String(value));

// --- worker heartbeat: `RedisKeys.worker(id)` -------------------------------------------------

export interface WorkerHeartbeat {
  id: string;
  lastHeartbeatAt: number;
  concurrency: number;
  activeTasks: number;
  circuit: CircuitSnapshot;
  /** The id of the last operator circuit command this worker applied. */
  circuitCommandId: string | null;
}

const heartbeatFields = z.object({
  id: z.string().min(1),
  lastHeartbeatAt: optionalNumber,
  concurrency: count,
  activeTasks: count,
  circuitState: z.enum(CircuitState).optional().catch(undefined),
  circuitFailures: count,
  circuitOpenedAt: optionalNumber,
  circuitHalfOpenAt: optionalNumber,
  circuitCommandId: optionalText,
});

export const workerHeartbeatHash = {
  /** The fields a beat writes (with `pid` and `startedAt`, for operators reading Redis). */
  encode(beat: WorkerHeartbeat & { pid: number; startedAt: number }): Hash {
    return {
      id: beat.id,
      lastHeartbeatAt: written(beat.lastHeartbeatAt),
      concurrency: written(beat.concurrency),
      activeTasks: written(beat.activeTasks),
      pid: written(beat.pid),
      startedAt: written(beat.startedAt),
      circuitState: beat.circuit.state,
      circuitFailures: written(beat.circuit.failures),
      circuitOpenedAt: written(beat.circuit.openedAt),
      circuitHalfOpenAt: written(beat.circuit.halfOpenAt),
      circuitCommandId: written(beat.circuitCommandId),
    };
  },
  /** The heartbeat, or null for a hash that is not one (expired half-way, no beat time). */
  decode(fields: Hash): WorkerHeartbeat | null {
    const parsed = heartbeatFields.safeParse(fields);
    if (!parsed.success || parsed.data.lastHeartbeatAt === null) return null;
    const hash = parsed.data;
    return {
      id: hash.id,
      lastHeartbeatAt: hash.lastHeartbeatAt!,
      concurrency: hash.concurrency,
      activeTasks: hash.activeTasks,
      circuit: {
        state: hash.circuitState ?? CircuitState.CLOSED,
        failures: hash.circuitFailures,
        openedAt: hash.circuitOpenedAt,
        halfOpenAt: hash.circuitHalfOpenAt,
      },
      circuitCommandId: hash.circuitCommandId,
    };
  },
};

// --- the operator's circuit command: `RedisKeys.circuitCommand()` -----------------------------

export interface CircuitCommandRecord {
  /** A fresh random id per command: a worker applies each id once. */
  id: string;
  action: CircuitCommand;
  at: number;
}

const circuitCommandFields = z.object({ id: z.string().min(1), action: z.enum(CircuitCommand), at: optionalNumber });

export const circuitCommandHash = {
  encode: (command: CircuitCommandRecord): Hash => ({ id: command.id, action: command.action, at: written(command.at) }),
  /** The command, or null when there is none (or it is not one). */
  decode(fields: Hash): CircuitCommandRecord | null {
    const parsed = circuitCommandFields.safeParse(fields);
    return parsed.success ? { id: parsed.data.id, action: parsed.data.action, at: parsed.data.at ?? 0 } : null;
  },
};

// --- the provider's last check: `RedisKeys.providerStatus()` ----------------------------------

export interface ProviderCheckRecord {
  state: ProviderState;
  creditsRemaining: number | null;
  checkedAt: number;
}

const providerCheckFields = z.object({ state: z.enum(ProviderState), creditsRemaining: optionalNumber, checkedAt: optionalNumber });

export const providerCheckHash = {
  encode: (check: ProviderCheckRecord): Hash => ({ state: check.state, creditsRemaining: written(check.creditsRemaining), checkedAt: written(check.checkedAt) }),
  /** The last check, or null when no worker has checked yet (or the hash is not one). */
  decode(fields: Hash): ProviderCheckRecord | null {
    const parsed = providerCheckFields.safeParse(fields);
    if (!parsed.success || parsed.data.checkedAt === null) return null;
    return { state: parsed.data.state, creditsRemaining: parsed.data.creditsRemaining, checkedAt: parsed.data.checkedAt };
  },
};
