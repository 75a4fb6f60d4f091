/**
 * One attempt at a claimed task, and what it holds while it runs: the lease (renewed every
 * third of its length), the AbortController that cancel, shutdown, a lost lease or too much
 * output trip, the output writer and the chain of progress writes. The runner creates one per
 * claim and disposes of it when the attempt is settled.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../common/logger.ts';
import { pendingCallCodec, type PendingCall } from '../schema/src/scripts/usage.ts';
import type { CallUsage } from '../schema/src/usage.ts';
import { OutputWriter } from './output-writer.ts';
import { chainIndexOf, type AttemptChain } from './model-chain.ts';
import type { CarriedCall, ClaimedTask, Lease, TaskStore } from './task-store.ts';

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}
export class ShutdownError extends Error {
  override name = 'ShutdownError';
}
export class CancelledError extends Error {
  override name = 'CancelledError';
}
/** The attempt wrote more than OUTPUT_MAX_BYTES: it ends as OUTPUT_TOO_LARGE. */
export class OutputTooLargeError extends Error {
  override name = 'OutputTooLargeError';
}

/**
 * One provider call of the attempt, as the write-ahead record knows it (`RedisKeys.usagePending`,
 * by `id`): written before its request leaves, given its generation id when the answer names it,
 * and taken off the list by the usage record (or dropped when nothing was billed).
 */
interface CallUnderWay {
  id: string;
  record: PendingCall;
  /** The record may be in Redis (written ahead, or its write was tried). */
  written: boolean;
  /** Its request was handed to the provider. */
  started: boolean;
  /** Its usage was reported (the usage record takes the record off the list). */
  reported: boolean;
  /** Dropped: it never left, or the provider billed nothing. */
  dropped: boolean;
}

export interface OutputSettings {
  flushMs: number;
  flushChars: number;
  maxBytes: number;
}

export class Attempt {
  readonly controller = new AbortController();
  private readonly renewal: NodeJS.Timeout;
  private readonly output: OutputWriter;
  // Progress writes go out in order; a write after the terminal one is simply stale.
  private progressChain: Promise<unknown> = Promise.resolve();
  private usageChain: Promise<unknown> = Promise.resolve();
  /** The usage of the attempt's latest call, held for its completion to carry (see `onUsage`). */
  private heldUsage: CarriedCall | null = null;
  /** The budget reservation of this attempt's call, until a usage record (or the release) ends it. */
  private reservationId: string | null = null;
  /** The reservation to name in a pending call (kept after the first record takes `reservationId`). */
  private heldReservation: string | null = null;
  private isCapped: boolean;
  /** The provider call prepared or under way (the handler makes them one after another). */
  private call: CallUnderWay | null = null;
  /** Generation ids added to write-ahead records, and records dropped. */
  private noteChain: Promise<unknown> = Promise.resolve();
  /** The model chain this attempt runs (worker/model-chain.ts), once the runner chose its models. */
  private models: { chain: AttemptChain; sent: readonly string[] } | null = null;
  /** The model that answered (the response's `model`), once the answer named it. */
  answeredModel: string | null = null;
  /** Text came from the provider: a failure from here on broke an answer under way. */
  outputBegan = false;

  constructor(
    readonly lease: Lease,
    readonly task: ClaimedTask,
    readonly log: Logger,
    private readonly store: TaskStore,
    leaseMs: number,
    output: OutputSettings,
    /** The model calls are made with (what a pending call is reconciled as). */
    private model: string,
    /** The prompt's tokens as the handler estimates them: what an orphaned call unnamed by the provider is priced at. */
    private readonly promptTokens: number = 0,
    /** Its tenant is capped: its slot is released when the attempt ends (see `capped`). */
    capped = false,
  ) {
    this.isCapped = capped;
    this.renewal = setInterval(() => this.renew(), Math.max(10, Math.floor(leaseMs / 3)));
    // Output as the handler writes it, fenced by the lease; the completion adds the rest.
    this.output = new OutputWriter({
      // The attempt's first chunk names the model writing it (the script keeps it on that one only).
      append: (text, expectedBytes) => store.appendOutput(lease, text, expectedBytes, this.answeredModel),
      ...output,
      onStale: () => this.controller.abort(new LeaseLostError('lease lost')),
      onTooLarge: (bytes) => this.controller.abort(new OutputTooLargeError(`output passed ${output.maxBytes} bytes (${bytes})`)),
      onError: (error) => log.warn({ err: error.message }, 'output append failed; the rest goes with the result'),
    });
  }

  /** The attempt holds one of its capped tenant's slots (from the claim, or a cap set since). */
  get capped(): boolean {
    return this.isCapped;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the attempt was aborted, or null while it was not. */
  get abortReason(): unknown {
    return this.controller.signal.aborted ? this.controller.signal.reason : null;
  }

  readonly onProgress = (progress: number): void => {
    this.progressChain = this.progressChain
      .then(() => this.store.progress(this.lease, progress))
      .catch((error: Error) => this.log.warn({ err: error.message }, 'progress write failed'));
  };

  readonly onText = (delta: string): void => {
    if (delta) this.outputBegan = true;
    this.output.write(delta);
  };

  readonly onModel = (model: string): void => {
    this.answeredModel ??= model;
  };

  /**
   * The models this attempt's call goes to (`sent`, in order) out of its chain: its pending
   * call is reconciled as the first, and its usage records the answering model's place.
   */
  useModels(chain: AttemptChain, sent: readonly string[]): void {
    this.models = { chain, sent };
    if (sent[0]) this.model = sent[0];
  }

  /** The chain and the models sent, once chosen (null for a provider without models). */
  get chainInUse(): { chain: AttemptChain; sent: readonly string[] } | null {
    return this.models;
  }

  /**
   * Records a call's usage (billed, so written whatever the lease says); the first ends the
   * reservation. The record takes the call off the list of calls under way: if a sweeper took it
   * first (this worker was frozen past the orphan time), this one records nothing.
   * The call's usage is held rather than sent: if it is the attempt's last, the completion
   * carries it (`takeUsage`: one script call instead of two); a later call's usage, or `settle()`
   * (every way an attempt ends but completion), sends it through `store.recordUsage`.
   */
  readonly onUsage = (reported: CallUsage): void => {
    const models = this.models;
    const usage: CallUsage = models ? { ...reported, chainIndex: chainIndexOf(models.chain, reported.model), switchReason: models.chain.switchReason } : reported;
    const reservationId = this.reservationId;
    this.reservationId = null;
    const call = this.call?.started ? this.call : null;
    if (call) call.reported = true;
    this.flushUsage();
    this.heldUsage = { attempt: this.task.attempt, usage, reservationId, wasPending: call?.written ?? false, callId: call?.id ?? '', onceKey: '' };
  };

  /**
   * The held usage of the attempt's last call, for its completion to record (null when none):
   * no longer sent by `settle()`. A call nobody wrote ahead gets a once key, so the completion
   * records it once however often it is sent; give it back (`restoreUsage`) if the completion
   * failed.
   */
  takeUsage(): CarriedCall | null {
    const held = this.heldUsage;
    this.heldUsage = null;
    return held && (held.callId !== '' ? held : { ...held, onceKey: randomUUID() });
  }

  /** A completion that carried `call` failed (it may have run): `settle()` sends it, with its once key. */
  restoreUsage(call: CarriedCall): void {
    this.flushUsage();
    this.heldUsage = call;
  }

  /** Sends the held usage, if any, through `store.recordUsage` (after the ones before it). */
  private flushUsage(): void {
    const held = this.heldUsage;
    if (!held) return;
    this.heldUsage = null;
    this.usageChain = this.usageChain
      .then(() => this.store.recordUsage(this.lease, held.attempt, held.usage, held.reservationId, held.wasPending, held.callId, held.onceKey))
      .catch((error: Error) => this.log.error({ err: error.message }, 'usage of a provider call not recorded'));
  }

  /**
   * The next provider call's write-ahead record, for the runner to write in a round trip that
   * happens anyway before the call (the rate-limit token); `markWrittenAhead` before that round
   * trip: the call then sends without writing it again, and one that does not go is dropped.
   */
  prepareCall(): { callId: string; record: string } {
    if (!this.call || this.call.started) this.call = this.newCall();
    return { callId: this.call.id, record: pendingCallCodec.encode(this.call.record) };
  }

  markWrittenAhead(): void {
    if (this.call && !this.call.started) this.call.written = true;
  }

  /**
   * A provider call is about to send its request: its record is written first (unless the runner
   * wrote it ahead), so whatever happens to this worker from here on, the call is accounted for.
   * Resolves with the call's id; rejects (the call does not go) when the record cannot be written.
   */
  readonly onCallStart = async (): Promise<string> => {
    if (this.call?.started) this.dropUnbilled(this.call);
    if (!this.call || this.call.started) this.call = this.newCall();
    const call = this.call;
    if (!call.written) {
      call.written = true;
      await this.store.registerPendingCall(call.id, call.record);
    }
    call.started = true;
    return call.id;
  };

  /**
   * The call's generation id, as soon as the provider names it: added to its record, so a sweeper
   * reconciles it exactly from the provider if this worker dies before recording its usage.
   */
  readonly onGeneration = (generationId: string): void => {
    const call = this.call;
    if (!call?.started) return;
    call.record = { ...call.record, generationId };
    const record = call.record;
    // Not behind the usage chain: the script writes only while the call is still pending, so the
    // order against its usage record does not matter.
    this.noteChain = this.noteChain
      .then(() => this.store.notePendingGeneration(call.id, record))
      .catch((error: Error) => this.log.warn({ err: error.message }, 'generation id of a call under way not written'));
  };

  /** The id this attempt's budget reservation has, if it holds one (named in its calls' records). */
  get plannedReservation(): string {
    return `${this.lease.taskId}:${this.task.attempt}:${this.lease.token}`;
  }

  /** The budget reservation held for this attempt's call. */
  holdReservation(id: string): void {
    this.reservationId = id;
    this.heldReservation = id;
  }

  /**
   * Waits for the progress, output and usage writes in flight; nothing more is written after. A
   * held usage (one no completion took) is sent. A call that never left, or that the provider
   * billed nothing for (it reported no usage), is taken off the list of calls under way.
   */
  async settle(): Promise<void> {
    this.flushUsage();
    if (this.call) this.dropUnbilled(this.call);
    await Promise.all([this.progressChain, this.output.settle(), this.usageChain, this.noteChain]);
  }

  /** Ends a reservation no call used (the call never started, or reported no usage). */
  async releaseReservation(): Promise<void> {
    const id = this.reservationId;
    if (id === null) return;
    this.reservationId = null;
    await this.store.releaseBudget(this.lease.tenant, id).catch((error: Error) => this.log.warn({ err: error.message }, 'budget reservation not released; it expires'));
  }

  /** The attempt's last output chunk for `result` (see OutputWriter.final). */
  finalOutput(result: string) {
    return this.output.final(result);
  }

  /** Stops renewing the lease (before handing the task back, so no renewal extends it after). */
  stopRenewal(): void {
    clearInterval(this.renewal);
  }

  dispose(): void {
    this.stopRenewal();
  }

  private newCall(): CallUnderWay {
    const record: PendingCall = {
      taskId: this.lease.taskId,
      tenant: this.lease.tenant,
      attempt: this.task.attempt,
      model: this.model,
      at: Date.now(),
      reservationId: this.heldReservation ?? this.plannedReservation,
      promptTokens: this.promptTokens,
      generationId: null,
    };
    return { id: randomUUID(), record, written: false, started: false, reported: false, dropped: false };
  }

  /** Takes a call that reported no usage off the list: it never left, or nothing was billed. */
  private dropUnbilled(call: CallUnderWay): void {
    if (call.reported || call.dropped || !call.written) return;
    call.dropped = true;
    this.noteChain = this.noteChain
      .then(() => this.store.dropPendingCall(call.id))
      .catch((error: Error) => this.log.warn({ err: error.message }, 'unbilled call not taken off the list of calls under way'));
  }

  private renew(): void {
    this.store.renew(this.lease).then(
      (renewal) => {
        if (!renewal.held) this.controller.abort(new LeaseLostError('lease lost'));
        else if (renewal.capped) this.isCapped = true;
      },
      // A failed renewal is not a lost lease: keep working; the lease decides.
      (error: Error) => this.log.warn({ err: error.message }, 'lease renewal failed'),
    );
  }
}
