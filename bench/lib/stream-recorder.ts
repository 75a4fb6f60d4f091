/**
 * What the streaming scenario's subscribers received, on this process's clock: deliveries,
 * latency per stamped piece (see stamped-text.ts), and the same pieces seen on the Redis
 * channel by a plain subscriber (the tap), which splits the latency into the leg before the
 * server and the server's own.
 */
import { createRedisClient, parseRedisUrl } from '../../common/redis-connection.ts';
import { latencySummary } from './measure.ts';
import { stampsIn } from './stamped-text.ts';
import type { BenchSystem } from './system.ts';

export interface StreamRun {
  deliveries: number;
  expected: number;
  /** Deliveries over the window: gate open → last delivery. */
  perSecond: number;
  /** Send → subscriber, ms, per piece. */
  p50: number;
  p99: number;
  /** Send → the chunk's PUBLISH at the tap, ms, per piece (ours: the provider, the worker, the script). */
  publishP50: number;
  publishP99: number;
  /** Pieces received by subscribers (a merged chunk carries several), against the number sent. */
  pieces: number;
  expectedPieces: number;
  /** Subscriptions that ended without their final chunk (an error, or still missing at the deadline). */
  unfinished: number;
  errors: number;
  /** CPU µs per process over the window. */
  cpu: Record<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export class StreamRecorder {
  private latencies: number[] = [];
  private published: number[] = [];
  private deliveries = 0;
  private finals = 0;
  private last = 0;
  private minStamp = Infinity;
  private maxStamp = -Infinity;
  errors = 0;

  /**
   * @param subscriptions how many subscriptions each expect `chunks` chunks
   * @param chunks per task, the final one (no text, no stamp) included
   */
  constructor(
    private readonly subscriptions: number,
    private readonly chunks: number,
  ) {}

  /** One chunk a subscriber received. */
  onChunk(text: string, final: boolean): void {
    const now = performance.now();
    this.deliveries += 1;
    this.last = now;
    for (const stamp of stampsIn(text)) {
      this.latencies.push(now - stamp);
      if (stamp < this.minStamp) this.minStamp = stamp;
      if (stamp > this.maxStamp) this.maxStamp = stamp;
    }
    if (final) this.finals += 1;
  }

  /** One message the tap saw on the channel. */
  onPublished(message: string): void {
    const now = performance.now();
    for (const stamp of stampsIn(message)) this.published.push(now - stamp);
  }

  /** Resolves once every subscription had its final chunk (or an error), or at `deadline` (performance.now()). */
  async drained(deadline: number): Promise<void> {
    while (this.finals + this.errors < this.subscriptions && performance.now() < deadline) await sleep(10);
  }

  /**
   * The run's figures. `minStampSpreadMs`: the stamps of a run must span at least this much
   * (most of the pieces' schedule); the same instant everywhere would mean they were not taken
   * as each piece was sent, and the latencies would be wrong: that throws.
   */
  result(gateAt: number, cpu: Record<string, number>, minStampSpreadMs: number): StreamRun {
    const spread = this.maxStamp - this.minStamp;
    if (this.latencies.length > 0 && spread < minStampSpreadMs) {
      throw new Error(`stamps span ${spread.toFixed(0)} ms, expected at least ${minStampSpreadMs.toFixed(0)}: they are not send times`);
    }
    const delivered = latencySummary(this.latencies);
    const published = latencySummary(this.published);
    const seconds = ((this.last || performance.now()) - gateAt) / 1000;
    return {
      deliveries: this.deliveries,
      expected: this.subscriptions * this.chunks,
      perSecond: this.deliveries / seconds,
      p50: delivered.p50,
      p99: delivered.p99,
      publishP50: published.p50,
      publishP99: published.p99,
      pieces: delivered.n,
      expectedPieces: this.subscriptions * (this.chunks - 1),
      unfinished: this.subscriptions - this.finals,
      errors: this.errors,
      cpu,
    };
  }
}

/**
 * A plain Redis subscriber on `channel` handing each message to `onMessage`. Both variants get
 * one, so Redis fans every PUBLISH out to the same number of clients in both.
 */
export async function tapChannel(system: BenchSystem, channel: string, onMessage: (message: string) => void): Promise<{ close(): void }> {
  const tap = createRedisClient(parseRedisUrl(system.redis.url), { name: 'bench-stream-tap', commandTimeoutMs: 0 });
  await tap.connect();
  await tap.subscribe(channel);
  // Stamps and ids are ASCII: latin1 is the cheapest exact decoding.
  tap.on('messageBuffer', (_channel: Buffer, message: Buffer) => onMessage(message.toString('latin1')));
  return { close: () => tap.disconnect() };
}
