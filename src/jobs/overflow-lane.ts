import { Worker } from 'bullmq';
import type { Logger } from '../logger.js';

/** How often the step worker looks whether its overflow lane is needed. */
export const DEFAULT_LANE_CHECK_MS = 500;

/** A chain lane on one job longer than this may be holding up another run's job: the overflow lane opens. */
export const CHAIN_BUSY_AFTER_MS = 1000;

/**
 * The overflow lane's BullMQ worker. BullMQ's `resume()` of a worker whose loop has ended starts it again without
 * handling a failure of that start; here every start reports one as the worker's `error` instead of leaving it
 * unhandled (which would end the process).
 */
export class OverflowWorker<D = unknown, R = unknown> extends Worker<D, R> {
  override run(): Promise<void> {
    const running = super.run();
    running.catch((err: unknown) => this.emit('error', err instanceof Error ? err : new Error(String(err))));
    return running;
  }
}

export interface OverflowLaneOptions {
  /** The overflow lane's BullMQ worker (an {@link OverflowWorker}), created without autorun. */
  readonly worker: Worker;
  /** How many runs have started and not ended, across every process. */
  readonly countActiveRuns: () => Promise<number>;
  /** How long the chain lane has been on its current job, in ms; `undefined` while it is idle. */
  readonly chainBusyMs: () => number | undefined;
  readonly logger: Logger;
  /** @defaultValue {@link DEFAULT_LANE_CHECK_MS} */
  readonly checkEveryMs?: number;
  /** @defaultValue {@link CHAIN_BUSY_AFTER_MS} */
  readonly chainBusyAfterMs?: number;
}

/**
 * Step jobs run in two lanes: the chain lane takes one job at a time and always runs; the overflow lane takes the
 * rest of the worker's concurrency, open only while more than one run is active or the chain lane has been on one
 * job for over a second. Why, and why being late to open is harmless: docs/internals.md#overflow-lane.
 */
export class OverflowLane {
  private open = false;
  private checking = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: OverflowLaneOptions) {
    this.timer = setInterval(() => void this.check(), o.checkEveryMs ?? DEFAULT_LANE_CHECK_MS);
    this.timer.unref();
    void this.check();
  }

  /** Whether the lane takes jobs now. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Opens or closes the lane for what it sees now; resolves once that is done. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const busyMs = this.o.chainBusyMs();
      const stuck = busyMs !== undefined && busyMs >= (this.o.chainBusyAfterMs ?? CHAIN_BUSY_AFTER_MS);
      const wanted = stuck || (await this.o.countActiveRuns()) > 1;
      if (wanted === this.open) return;
      if (wanted) this.start();
      // Jobs it already holds run to their end; it stops fetching more (a blocking read already under way may
      // still bring one).
      else await this.o.worker.pause(true);
      this.open = wanted;
      this.o.logger.debug(
        { open: wanted, chainBusyMs: busyMs },
        wanted ? 'overflow lane opened' : 'overflow lane closed',
      );
    } catch (err) {
      // Redis does not answer: no job moves either, so the lane can stay as it is until the next check.
      this.o.logger.debug({ err }, 'could not count the active runs; the overflow lane stays as it is');
    } finally {
      this.checking = false;
    }
  }

  /** Stops checking; closing the worker is the caller's. */
  stop(): void {
    clearInterval(this.timer);
  }

  private start(): void {
    const { worker } = this.o;
    // The first time it was never started (no autorun); later it was paused, and its loop may have ended since.
    if (worker.isRunning() || worker.isPaused()) void worker.resume();
    else worker.run().catch(() => undefined);
  }
}
