/**
 * One attempt at a claimed task, and what it holds while it runs: the lease (renewed every
 * third of its length), the AbortController that cancel, shutdown, a lost lease or too much
 * output trip, the output writer and the chain of progress writes. The runner creates one per
 * claim and disposes of it when the attempt is settled.
 */
import type { Logger } from '../common/logger.ts';
import type { CallUsage } from '../schema/src/usage.ts';
import { estimateTokens } from './providers/usage-estimate.ts';
import { OutputWriter } from './output-writer.ts';
import type { ClaimedTask, Lease, TaskStore } from './task-store.ts';

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
  /** The budget reservation of this attempt's call, until a usage record (or the release) ends it. */
  private reservationId: string | null = null;
  /** The reservation to name in a pending call (kept after the first record takes `reservationId`). */
  private heldReservation: string | null = null;
  private isCapped: boolean;
  /** Generation ids registered as under way (`RedisKeys.usagePending`). */
  private readonly pending = new Set<string>();

  constructor(
    readonly lease: Lease,
    readonly task: ClaimedTask,
    readonly log: Logger,
    private readonly store: TaskStore,
    leaseMs: number,
    output: OutputSettings,
    /** The model calls are made with (what a pending call is reconciled as). */
    private readonly model: string,
    /** Its tenant is capped: its slot is released when the attempt ends (see `capped`). */
    capped = false,
  ) {
    this.isCapped = capped;
    this.renewal = setInterval(() => this.renew(), Math.max(10, Math.floor(leaseMs / 3)));
    // Output as the handler writes it, fenced by the lease; the completion adds the rest.
    this.output = new OutputWriter({
      append: (text, expectedBytes) => store.appendOutput(lease, text, expectedBytes),
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

  readonly onText = (delta: string): void => this.output.write(delta);

  /** Records a call's usage (billed, so written whatever the lease says); the first ends the reservation. */
  readonly onUsage = (usage: CallUsage): void => {
    const reservationId = this.reservationId;
    this.reservationId = null;
    const wasPending = usage.generationId !== null && this.pending.has(usage.generationId);
    this.usageChain = this.usageChain
      .then(() => this.store.recordUsage(this.lease, this.task.attempt, usage, reservationId, wasPending))
      .catch((error: Error) => this.log.error({ err: error.message }, 'usage of a provider call not recorded'));
  };

  /**
   * A call under way: registered (before its text arrives) so that if this worker dies before
   * recording its usage, a sweeper reconciles it from the provider.
   */
  readonly onGeneration = (generationId: string): void => {
    this.pending.add(generationId);
    const call = {
      taskId: this.lease.taskId,
      tenant: this.lease.tenant,
      attempt: this.task.attempt,
      model: this.model,
      at: Date.now(),
      reservationId: this.heldReservation,
      promptTokens: estimateTokens(this.task.content),
    };
    this.usageChain = this.usageChain
      .then(() => this.store.registerPendingCall(generationId, call))
      .catch((error: Error) => this.log.warn({ err: error.message }, 'provider call not registered as under way'));
  };

  /** The budget reservation held for this attempt's call. */
  holdReservation(id: string): void {
    this.reservationId = id;
    this.heldReservation = id;
  }

  /** Waits for the progress, output and usage writes in flight; nothing more is written after. */
  async settle(): Promise<void> {
    await Promise.all([this.progressChain, this.output.settle(), this.usageChain]);
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
