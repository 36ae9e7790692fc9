import { Job, type Queue } from 'bullmq';
import type { Logger } from '../logger.js';
import { STEP_JOB } from './queues.js';

/** Longer waits are left to BullMQ alone: a timer per job would pile up, and being a tick late does not matter. */
const DEFAULT_MAX_DELAY_MS = 60_000;

/**
 * Starts short delayed jobs on time: Redis checks a blocked worker's timeout only on its tick, so BullMQ alone
 * starts them up to 100 ms late. Best effort, see docs/internals.md#on-time-promoter.
 */
export class OnTimePromoter {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly queue: Queue,
    private readonly logger: Logger,
    private readonly maxDelayMs = DEFAULT_MAX_DELAY_MS,
  ) {}

  /** Promotes the delayed job `jobId` in `delayMs`, if it is still delayed then. */
  schedule(jobId: string, delayMs: number): void {
    if (this.closed || delayMs <= 0 || delayMs > this.maxDelayMs || this.timers.has(jobId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(jobId);
      this.promoteIfDue(jobId).catch((err: unknown) => {
        this.logger.debug({ jobId, err }, 'could not promote a due job; BullMQ starts it on its own');
      });
    }, delayMs);
    timer.unref();
    this.timers.set(jobId, timer);
  }

  /** Pending timers, for tests and shutdown. */
  get pending(): number {
    return this.timers.size;
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async promoteIfDue(jobId: string): Promise<void> {
    if (this.closed) return;
    // Due by now, so no read first: promoting a job no longer delayed fails and changes nothing (the other cases
    // are in docs/internals.md#on-time-promoter).
    await new Job(this.queue, STEP_JOB, {}, {}, jobId).promote();
  }
}
