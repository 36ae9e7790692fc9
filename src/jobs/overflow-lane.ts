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
 * Step jobs run in two lanes. The chain lane takes one job at a time and always runs; the overflow lane takes the
 * rest of the worker's concurrency and runs only while it may be needed: while more than one run is active, or
 * while the chain lane has been on one job for over a second (a restore, a slow DecisionGraph, or the step of a run
 * aborted meanwhile, whose call goes on until its timeout).
 *
 * Why: a run is a chain of step jobs, each enqueued by the one before it, and the job that finishes fetches the
 * next one in the same call to Redis. An idle BullMQ worker blocks on the queue and wakes for every job added; with
 * a single run it only finds that job already taken by the finishing one, and its wake-up (a blocking read and a
 * fetch that comes back empty) lands in the middle of the run's next step. Measured on a `restart` run against a
 * zero-latency simulator, that is about a tenth of the run's time.
 *
 * Nothing depends on the lane being open in time: a job waits in the queue until a lane takes it. Opening it
 * waits at most one check after it is needed. With several worker processes each has its own chain lane, and the
 * idle ones still wake for every job added: the saving is for the usual single process.
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
