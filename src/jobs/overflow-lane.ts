import type { Worker } from 'bullmq';
import type { Logger } from '../logger.js';

/** How often the step worker counts the active runs, to open or close its overflow lane. */
export const DEFAULT_LANE_CHECK_MS = 500;

/**
 * Step jobs run in two lanes. The chain lane takes one job at a time and always runs; the overflow lane takes the
 * rest of the worker's concurrency and runs only while more than one run is active.
 *
 * Why: a run is a chain of step jobs, each enqueued by the one before it, and the job that finishes fetches the
 * next one in the same call to Redis. An idle BullMQ worker blocks on the queue and wakes for every job added; with
 * a single run it only finds that job already taken by the finishing one, and its wake-up (a blocking read and a
 * fetch that comes back empty) lands in the middle of the run's next step. Measured on a `restart` run against a
 * zero-latency simulator, that is about a tenth of the run's time. With two runs or more, the second lane is what
 * keeps one run's long step (a restore, a slow DecisionGraph) from holding up the others.
 *
 * Nothing depends on the lane being open in time: a job waits in the queue until a lane takes it. Opening it
 * waits at most one check after a second run starts.
 */
export class OverflowLane {
  private open = false;
  private checking = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly worker: Worker,
    /** How many runs have started and not ended, across every process. */
    private readonly countActiveRuns: () => Promise<number>,
    private readonly logger: Logger,
    checkEveryMs = DEFAULT_LANE_CHECK_MS,
  ) {
    this.timer = setInterval(() => void this.check(), checkEveryMs);
    this.timer.unref();
    void this.check();
  }

  /** Whether the lane takes jobs now. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Opens or closes the lane for the number of active runs now; resolves once that is done. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const wanted = (await this.countActiveRuns()) > 1;
      if (wanted === this.open) return;
      this.open = wanted;
      if (wanted) this.start();
      // Jobs it already holds run to their end; it stops fetching more.
      else await this.worker.pause(true);
      this.logger.debug({ open: wanted }, wanted ? 'overflow lane opened' : 'overflow lane closed');
    } catch (err) {
      // Redis does not answer: no job moves either, so the lane can stay as it is until the next check.
      this.logger.debug({ err }, 'could not count the active runs; the overflow lane stays as it is');
    } finally {
      this.checking = false;
    }
  }

  /** Stops checking; closing the worker is the caller's. */
  stop(): void {
    clearInterval(this.timer);
  }

  private start(): void {
    // The first time it was never started (no autorun); later it was paused.
    if (this.worker.isRunning() || this.worker.isPaused()) {
      void this.worker.resume();
      return;
    }
    this.worker.run().catch((err: unknown) => this.worker.emit('error', err as Error));
  }
}
