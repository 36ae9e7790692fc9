import { Job, type Queue } from 'bullmq';
import type { Logger } from '../logger.js';
import { STEP_JOB } from './queues.js';

/** Longer waits are left to BullMQ alone: a timer per job would pile up, and being a tick late does not matter. */
const DEFAULT_MAX_DELAY_MS = 60_000;

/**
 * Starts short delayed jobs on time.
 *
 * A BullMQ worker waits for the next delayed job with a blocking Redis command that times out when the job is due,
 * but Redis looks at blocked clients' timeouts on its periodic tick (10 times a second unless `hz` is raised). On
 * an otherwise quiet Redis every poll of a step therefore started up to 100 ms late. The process that scheduled
 * the job also sets a timer of its own and promotes the job when it is due. Nothing depends on that timer: if the
 * process dies first, BullMQ still starts the job, a tick late.
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
    // The timer fires when the job is due, so promoting needs no read first: a job that is no longer delayed
    // (started by BullMQ, finished, removed) makes the promote fail, which changes nothing. A step job added again
    // under the same id is due at the same time, since its due time comes from the run log. One that BullMQ
    // started on its own and put back for an infrastructure retry is started again sooner than its backoff says;
    // that costs one of its delivery attempts early, nothing else.
    await new Job(this.queue, STEP_JOB, {}, {}, jobId).promote();
  }
}
