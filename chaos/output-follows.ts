/**
 * Output followers (issue 15): subscribers that follow a streaming task's `taskOutput` over the
 * pool's connections and put its text together as a client does (append each chunk's text; a
 * `reset` replaces the text so far). Through the faults they resume rather than restart:
 * graphql-ws re-sends the subscription after a reconnect, and a subscription that ended before
 * the final chunk (an error while Redis restarts, a server going away) is sent again, both
 * with `after` set to the last cursor received. A follower is done after the final chunk and
 * the end of its feed, or once its task ended without one (DLQ, CANCELLED).
 */
import type { SubscriberPool } from './subscribers.ts';

const OUTPUT = 'subscription ($id: ID!, $after: String) { taskOutput(id: $id, after: $after) { taskId cursor attempt text reset final } }';

/** A follower that keeps re-subscribing without reaching an end gives up after this many. */
const MAX_RESUBSCRIBES = 100;

export interface ReceivedChunk {
  cursor: string;
  attempt: number;
  text: string;
  reset: boolean;
  final: boolean;
  /** When it arrived (epoch ms). */
  at: number;
}

/** What one subscriber saw of one task's output. */
export interface OutputFollow {
  taskId: string;
  /** The connection it follows on. */
  subscriber: number;
  /** Joined a while after the task was accepted: mid-stream, or after the task ended. */
  late: boolean;
  /** Every chunk in arrival order, repeats included. */
  chunks: ReceivedChunk[];
  /** The text put together (each cursor applied once). */
  text: string;
  /** The last cursor received: where a re-subscription resumes. */
  after: string | null;
  /** Cursors received more than once. */
  repeated: string[];
  /** Chunks that came after the final one. */
  afterFinal: number;
  sawFinal: boolean;
  /** Subscriptions sent again with `after` set (own re-subscriptions and graphql-ws's after a reconnect). */
  resumes: number;
  /** Own re-subscriptions after a subscription ended early. */
  resubscribes: number;
  /** `final`: its feed ended after the final chunk; `ended`: the task ended without one; null while following. */
  end: 'final' | 'ended' | 'gave up' | null;
}

export interface OutputFollowOptions {
  random(): number;
  /** The terminal state the run knows its task reached (from its watch), if any yet. */
  terminalStateOf(taskId: string): string | undefined;
}

/** A follower of `taskId`'s output on connection `subscriber`, before its first chunk. */
export function newOutputFollow(taskId: string, subscriber: number, late: boolean): OutputFollow {
  return { taskId, subscriber, late, chunks: [], text: '', after: null, repeated: [], afterFinal: 0, sawFinal: false, resumes: 0, resubscribes: 0, end: null };
}

export function createOutputFollows(pool: SubscriberPool, options: OutputFollowOptions) {
  const follows: OutputFollow[] = [];
  /** The followers whose subscription is open, per connection. */
  const open = pool.clients.map(() => new Set<OutputFollow>());
  // graphql-ws re-sends every open subscription after a reconnect: each one with a cursor resumes.
  pool.onReconnect((index) => {
    for (const record of open[index]!) if (record.after !== null) record.resumes += 1;
  });

  function subscribe(record: OutputFollow, seen: Set<string>): void {
    if (pool.isClosed() || record.end) return;
    // graphql-ws re-sends this same payload object after a reconnect: `after` is kept current in it.
    const variables: { id: string; after: string | null } = { id: record.taskId, after: record.after };
    let ended = false;
    const onEnd = () => {
      if (ended) return;
      ended = true;
      open[record.subscriber]!.delete(record);
      if (record.sawFinal) record.end = 'final';
      else if (isEndedWithoutResult(options.terminalStateOf(record.taskId))) record.end = 'ended';
      else if (record.resubscribes >= MAX_RESUBSCRIBES) record.end = 'gave up';
      else if (!pool.isClosed()) {
        // An error (UNAVAILABLE while Redis restarts), a server going away, or an end the run
        // cannot explain yet (its watch has not seen the task's end): resume where it was.
        record.resubscribes += 1;
        if (record.after !== null) record.resumes += 1;
        setTimeout(() => subscribe(record, seen), 200 + options.random() * 300);
      }
    };
    open[record.subscriber]!.add(record);
    pool.clients[record.subscriber]!.subscribe<{ taskOutput: Omit<ReceivedChunk, 'at'> }>(
      { query: OUTPUT, variables },
      {
        next: (result) => {
          const chunk = result.data?.taskOutput;
          if (!chunk) return;
          receive(record, chunk, seen);
          variables.after = record.after;
        },
        error: onEnd,
        complete: onEnd,
      },
    );
  }

  return {
    follows,
    /** Follows `taskId`'s output on connection `index`, starting after `delayMs`. */
    follow(taskId: string, index: number, delayMs: number): void {
      const record = newOutputFollow(taskId, index, delayMs > 0);
      follows.push(record);
      const seen = new Set<string>();
      if (delayMs > 0) setTimeout(() => subscribe(record, seen), delayMs);
      else subscribe(record, seen);
    },
    pending: () => follows.filter((record) => record.end === null),
  };
}

/**
 * Takes one chunk as a client does: its text is appended, or replaces the text so far when it
 * is a reset; a cursor already in `seen` is recorded as a repeat and not applied again.
 */
export function receive(record: OutputFollow, chunk: Omit<ReceivedChunk, 'at'>, seen: Set<string>, at = Date.now()): void {
  record.chunks.push({ cursor: chunk.cursor, attempt: chunk.attempt, text: chunk.text, reset: chunk.reset, final: chunk.final, at });
  if (seen.has(chunk.cursor)) {
    record.repeated.push(chunk.cursor);
    return;
  }
  seen.add(chunk.cursor);
  if (record.sawFinal) record.afterFinal += 1;
  record.text = chunk.reset ? chunk.text : record.text + chunk.text;
  if (chunk.final) record.sawFinal = true;
  record.after = chunk.cursor;
}

const isEndedWithoutResult = (state: string | undefined) => state === 'DLQ' || state === 'CANCELLED';
